// The Folders dialog (grants) and the Activity dialog (audit log with undo).

import { byTestId as $, element, formatDate, showMessage } from "./dom.js";
import { guarded } from "./notice.js";
import { markUndone } from "./toolcards.js";
import { visible } from "./visible.js";

export class FoldersDialog {
  constructor(api, { desktop }) {
    this.api = api;
    this.dialog = document.querySelector('[data-testid="folders-dialog"]');
    this.guard = guarded((error) => this.message(error.message, true));
    $(this.dialog, "grant-browse").hidden = !desktop;
    $(this.dialog, "grant-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    $(this.dialog, "grant-browse").addEventListener("click", () => this.browse());
    $(this.dialog, "folders-close").addEventListener("click", () => this.dialog.close());
  }

  async open() {
    this.render(await this.api.call("list_grants"));
    this.message("");
    this.dialog.showModal();
    $(this.dialog, "grant-path").focus();
  }

  render(grants) {
    const list = $(this.dialog, "grant-list");
    list.replaceChildren();
    $(this.dialog, "grant-list-empty").hidden = grants.length > 0;
    const words = (mode) => (mode === "rw" ? "read and change" : "read only");
    const modes = new Map(grants.map((grant) => [grant.path, grant.mode]));
    for (const grant of grants) {
      const item = element("li", { class: "grant" });
      item.dataset.testid = "grant-item";
      // Grants come as a tree (parents first); the innermost grant decides for its folder.
      item.dataset.depth = String(Math.min(grant.depth ?? 0, 3));
      const path = element("span", { class: "grant-path", text: visible(grant.path) });
      const mode = element("span", { class: `badge ${grant.mode}`, text: words(grant.mode) });
      item.append(path, mode);
      if (grant.inside) {
        const outer = grant.inside.split("/").pop() || grant.inside;
        const note = element("span", {
          class: "grant-inside",
          text: `inside ${outer} (${words(modes.get(grant.inside))}): ${words(grant.mode)} here`,
        });
        note.title = grant.inside;
        note.dataset.testid = "grant-inside";
        path.append(note);
      }
      if (!grant.exists) item.append(element("span", { class: "badge missing", text: "missing" }));
      const revoke = element("button", { class: "secondary", text: "Revoke" });
      revoke.type = "button";
      revoke.setAttribute("aria-label", `Revoke ${grant.path}`);
      revoke.addEventListener("click", () => this.revoke(grant.path));
      item.append(revoke);
      list.append(item);
    }
  }

  async add() {
    const path = $(this.dialog, "grant-path").value.trim();
    if (!path) return this.message("Type or choose a folder first.", true);
    return this.guard(async () => {
      this.render(await this.api.call("add_grant", { path, mode: $(this.dialog, "grant-mode").value }));
      $(this.dialog, "grant-path").value = "";
      this.message(`Granted ${path}.`);
    });
  }

  browse() {
    return this.guard(async () => {
      const { path } = await this.api.call("choose_folder");
      if (path) $(this.dialog, "grant-path").value = path;
    });
  }

  revoke(path) {
    return this.guard(async () => {
      this.render(await this.api.call("remove_grant", { path }));
      this.message(`Revoked ${path}: the assistant can no longer reach it.`);
    });
  }

  message(text, error = false) {
    showMessage($(this.dialog, "grant-message"), text, error);
  }
}

const DECISION_WORDS = {
  auto: "ran without asking", approved: "approved", refused: "refused", denied: "denied by you",
};
const KIND_WORDS = {
  created: "created", overwritten: "changed", deleted: "deleted", moved: "moved",
  folder: "created folder", deleted_folder: "deleted folder",
};

export class ActivityDialog {
  constructor(api) {
    this.api = api;
    this.dialog = document.querySelector('[data-testid="activity-dialog"]');
    this.guard = guarded((error) => this.message(error.message, true));
    $(this.dialog, "activity-close").addEventListener("click", () => this.dialog.close());
  }

  // All activity, or only one conversation's tool calls.
  async open(conversationId = null) {
    this.conversationId = conversationId;
    $(this.dialog, "activity-scope").textContent = conversationId
      ? "The file tool calls of this conversation, newest first. Changes can be undone."
      : "Every file tool call, newest first. Changes can be undone.";
    await this.refresh();
    this.message("");
    this.dialog.showModal();
  }

  async refresh() {
    const filter = this.conversationId ? { conversation_id: this.conversationId } : {};
    const calls = await this.api.call("list_activity", { limit: 200, ...filter });
    this.calls = calls;
    const list = $(this.dialog, "activity-list");
    list.replaceChildren();
    $(this.dialog, "activity-empty").hidden = calls.length > 0;
    for (const call of calls) {
      // A denied call did not fail: the user chose so, and it is not shown as an error.
      const outcome = call.decision === "denied" ? "denied" : call.ok ? "ok" : "failed";
      const item = element("li", { class: `activity ${outcome}` });
      item.dataset.testid = "activity-item";
      const when = element("time", { class: "activity-when", text: formatDate(call.created_at) });
      when.dateTime = new Date(call.created_at * 1000).toISOString();
      when.dataset.testid = "activity-when";
      const summary = element("p", { class: "activity-summary", text: visible(call.summary) });
      summary.dataset.testid = "activity-summary";
      item.append(
        element("span", { class: "activity-tool", text: call.tool }),
        element("span", { class: "badge", text: DECISION_WORDS[call.decision] ?? call.decision }),
        when,
        summary,
      );
      if (call.no_undo) {
        // Another program ran it (an MCP server): what it did is out of this app's reach.
        item.append(element("span", {
          class: "badge no-undo", "data-testid": "activity-no-undo", text: "no undo",
          title: `Run by ${call.runs_on ?? "another program"}: what it did cannot be undone here`,
        }));
      }
      for (const change of call.changes) item.append(this.changeRow(change));
      list.append(item);
    }
  }

  changeRow(change) {
    const row = element("div", { class: "activity-change" });
    const words = visible(`${KIND_WORDS[change.kind] ?? change.kind} ${change.path}` +
      (change.other_path ? ` → ${change.other_path}` : ""));
    row.append(element("span", { text: words }));
    if (change.undone_at) {
      row.append(element("span", { class: "badge", text: "undone" }));
    } else {
      const undo = element("button", { class: "secondary", text: "Undo" });
      undo.type = "button";
      undo.setAttribute("aria-label", `Undo: ${words}`);
      undo.addEventListener("click", () => this.undo(change.id));
      row.append(undo);
    }
    return row;
  }

  undo(changeId) {
    return this.guard(async () => {
      await this.api.call("undo_change", { change_id: changeId });
      await this.refresh();
      const call = this.calls.find((c) => c.changes.some((change) => change.id === changeId));
      if (call?.changes.every((change) => change.undone_at)) markUndone(call.id);
      this.message("Undone.");
    });
  }

  message(text, error = false) {
    showMessage($(this.dialog, "activity-message"), text, error);
  }
}
