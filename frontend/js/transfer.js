// Conversations in and out of files: export one, import one the user picks, and the buttons.

import { byTestId, element } from "./dom.js";
import { guarded } from "./notice.js";

// Resolves to a message for the user, or null if they cancelled the Save dialog.
export async function exportConversation(api, conversationId, format) {
  if (api.transport === "desktop") {
    // The window has a native Save dialog; its web view does not take downloads.
    const { path } = await api.call("save_conversation", { conversation_id: conversationId, format });
    return path ? `Saved to ${path}.` : null;
  }
  const { filename, content, mime } = await api.call("export_conversation", {
    conversation_id: conversationId,
    format,
  });
  const url = URL.createObjectURL(new Blob([content], { type: mime }));
  const link = element("a", { href: url, download: filename, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return `Exported “${filename}” to your downloads.`;
}

// The file is read here and checked by the backend (transfer.py), which names what is wrong.
export async function importConversation(api, file) {
  return api.call("import_conversation", { data: await file.text() });
}

// The buttons that move conversations in and out of files: Export (.md, .json) in the chat's
// header, Import… in the sidebar. `onImported(conversation)` shows the imported one.
export class TransferButtons {
  constructor({ api, nav, notice }, { onImported }, root = document) {
    this.api = api;
    this.nav = nav;
    this.notice = notice;
    this.onImported = onImported;
    this.file = byTestId(root, "import-file");
    byTestId(root, "export-markdown-button").addEventListener("click", () => this.export("markdown"));
    byTestId(root, "export-json-button").addEventListener("click", () => this.export("json"));
    byTestId(root, "import-button").addEventListener("click", () => this.file.click());
    this.file.addEventListener("change", () => this.import());
  }

  export(format) {
    return this.notice.guard(async () => {
      const done = await exportConversation(this.api, this.nav.activeId, format);
      if (done) this.notice.brief(done);
    });
  }

  async import() {
    const file = this.file.files[0];
    this.file.value = "";
    if (!file) return;
    const guard = guarded((error) => this.notice.error(`Could not import ${file.name}: ${error.message}`));
    await guard(async () => {
      const conversation = await importConversation(this.api, file);
      await this.onImported(conversation);
      this.notice.brief(`Imported “${conversation.title}”.`);
    });
  }
}
