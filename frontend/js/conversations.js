// The saved conversations: the list in the sidebar (searched, with the one on screen and the
// busy ones marked), and what is done to a conversation as a whole: rename, and delete with
// undo.

import { promptDialog } from "./dialog.js";
import { byTestId } from "./dom.js";
import { Sidebar } from "./sidebar.js";

export class Conversations {
  // `onNewChat()` after the conversation on screen is deleted, `onOpen(id)` after one is
  // restored.
  constructor({ api, nav, replies, header, notice }, { onNewChat, onOpen }, root = document) {
    this.api = api;
    this.nav = nav;
    this.replies = replies;
    this.header = header;
    this.notice = notice;
    this.onNewChat = onNewChat;
    this.onOpen = onOpen;
    this.all = [];
    this.searchResults = null; // null: no search, the whole list is shown
    this.sidebar = new Sidebar(
      byTestId(root, "conversation-list"), byTestId(root, "conversation-list-empty"), byTestId(root, "search-input"),
      { onOpen, onSearch: (query) => this.search(query) },
    );
    byTestId(root, "rename-button").addEventListener("click", () => this.rename());
    byTestId(root, "delete-button").addEventListener("click", () => this.remove());
  }

  // The newest conversation, if there is one.
  get latest() {
    return this.all[0] ?? null;
  }

  async refresh() {
    this.all = await this.api.call("list_conversations");
    if (this.sidebar.query) await this.search(this.sidebar.query);
    else this.render();
  }

  render() {
    this.sidebar.render(this.searchResults ?? this.all, this.nav.activeId, this.replies.busy);
  }

  markBusy() {
    this.sidebar.markBusy(this.replies.busy);
  }

  // A message was sent: its conversation moves to the top of the list in the same frame as
  // the message. Reading the list again took a round trip and another frame while the model
  // read the prompt on the same cores; it is read again when the reply is saved.
  showSent(conversation) {
    const earlier = this.all.find((c) => c.id === conversation.id);
    const sent = { ...earlier, ...conversation, message_count: (earlier?.message_count ?? 0) + 1 };
    this.all = [sent, ...this.all.filter((c) => c.id !== conversation.id)];
    if (!this.sidebar.query) this.render();
  }

  search(query) {
    return this.notice.guard(async () => {
      this.searchResults = query ? await this.api.call("search_conversations", { query }) : null;
      this.render();
    });
  }

  focusSearch() {
    this.sidebar.focusSearch();
  }

  async rename() {
    const current = this.all.find((c) => c.id === this.nav.activeId);
    const title = await promptDialog({ title: "Rename conversation", value: current?.title ?? "", confirmLabel: "Rename" });
    if (!title || !title.trim()) return;
    await this.notice.guard(async () => {
      const renamed = await this.api.call("rename_conversation", { conversation_id: this.nav.activeId, title });
      this.header.show(renamed);
      await this.refresh();
    });
  }

  // No confirmation first: the delete can be undone from the notice until the app closes.
  remove() {
    const conversationId = this.nav.activeId;
    const title = this.header.title;
    return this.notice.guard(async () => {
      await this.api.call("delete_conversation", { conversation_id: conversationId });
      this.onNewChat();
      await this.refresh();
      this.notice.info(`Deleted “${title}”.`, {
        label: "Undo",
        run: () => this.restore(conversationId),
      });
    });
  }

  restore(conversationId) {
    return this.notice.guard(async () => {
      await this.api.call("restore_conversation", { conversation_id: conversationId });
      await this.refresh();
      await this.onOpen(conversationId);
    });
  }
}
