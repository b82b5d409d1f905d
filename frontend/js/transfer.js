// Export a conversation to a file, and import one from a file the user picks.

import { element } from "./dom.js";

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
