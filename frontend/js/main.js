// Starts the app: connects to the bridge, wires the views to the event stream.

import { connect } from "./api.js";
import { ChatView } from "./chat.js";
import { promptDialog } from "./dialog.js";
import { setLocale } from "./dom.js";
import { EventStream } from "./events.js";
import { ActivityDialog, FoldersDialog } from "./folders.js";
import { ModelsPane } from "./models.js";
import { Navigation } from "./navigation.js";
import { interceptLinks } from "./markdown.js";
import { Notice } from "./notice.js";
import { SettingsPane } from "./settings.js";
import { Sidebar } from "./sidebar.js";
import { StatusLine } from "./status.js";
import { exportConversation, importConversation } from "./transfer.js";
import { FirstRun } from "./welcome.js";

const $ = (testId) => document.querySelector(`[data-testid="${testId}"]`);
const RUNNING_AGAIN = "The model engine is running again: you can carry on.";
const WAITING_FOR_ANOTHER = "Waiting for the reply in another conversation to finish…";

class App {
  constructor(api) {
    this.api = api;
    this.nav = new Navigation();
    this.conversations = [];
    this.busy = new Set();
    this.streams = new Map(); // conversation id → text streamed so far
    this.pendingNotes = new Map(); // conversation id → what its reply is waiting for
    this.searchResults = null; // null: no search, the whole list is shown
    this.liveCalls = new Map(); // conversation id → tool_call events of the reply being written
    this.chat = new ChatView($("messages"), {
      onRetry: () => this.retry(this.activeId),
      onAnswer: (call, answer, reason) => this.answerToolCall(call, answer, reason),
      onRegenerate: () => this.regenerate(),
      onEdit: (messageId, text) => this.editAndResend(messageId, text),
    });
    this.sidebar = new Sidebar($("conversation-list"), $("conversation-list-empty"), $("search-input"), {
      onOpen: (id) => this.open(id),
      onSearch: (query) => this.search(query),
    });
    this.status = new StatusLine($("status"), { onRestart: () => this.restartModel() });
    this.notice = new Notice($("notice"));
    this.settings = new SettingsPane(api, {
      onSaved: ({ reloading }) => this.notifyBriefly(
        reloading ? "Settings saved. The model is reloading to apply them." : "Settings saved.",
      ),
    });
    this.input = $("composer-input");
    this.toolMode = $("tool-mode");
    this.folders = new FoldersDialog(api, { desktop: api.transport === "desktop" });
    this.activity = new ActivityDialog(api);
    this.models = new ModelsPane(api, { desktop: api.transport === "desktop" });
    this.firstRun = new FirstRun($("first-run"), api, {
      onModels: () => this.models.open().catch((error) => this.notify(error.message)),
      onFolders: () => this.folders.open().catch((error) => this.notify(error.message)),
      onError: (error) => this.notify(error.message),
    });
  }

  // The conversation on screen (null: a new chat). Only this.nav changes it.
  get activeId() {
    return this.nav.activeId;
  }

  async start() {
    this.bindControls();
    const [info, status] = await Promise.all([
      this.api.call("app_info"),
      this.api.call("get_status"),
    ]);
    setLocale(info.locale);
    if (info.notice) this.warn(info.notice);
    if (info.show_welcome) this.firstRun.show(status.model?.label ?? "SmolLM2 135M Instruct");
    this.status.showModel(status);
    for (const id of status.busy) this.busy.add(id);
    this.listen(status.last_seq);
    // Taken before the list loads, so a New chat meanwhile cancels this "open the latest".
    const ticket = this.nav.begin();
    await this.refreshList();
    if (this.conversations.length && ticket.current()) await this.open(this.conversations[0].id, ticket);
    this.input.focus();
  }

  bindControls() {
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => this.autosize());
    document.addEventListener("keydown", (event) => this.shortcut(event));
    interceptLinks($("messages"), (url) => {
      this.api.call("open_link", { url }).catch((error) => this.notify(error.message));
    });
    $("export-markdown-button").addEventListener("click", () => this.export("markdown"));
    $("export-json-button").addEventListener("click", () => this.export("json"));
    $("import-button").addEventListener("click", () => $("import-file").click());
    $("import-file").addEventListener("change", () => this.import());
    $("stop-button").addEventListener("click", () => this.stop());
    $("new-chat-button").addEventListener("click", () => this.newChat());
    $("rename-button").addEventListener("click", () => this.rename());
    $("delete-button").addEventListener("click", () => this.remove());
    $("folders-button").addEventListener("click", () => {
      this.folders.open().catch((error) => this.notify(error.message));
    });
    $("activity-button").addEventListener("click", () => {
      this.activity.open().catch((error) => this.notify(error.message));
    });
    $("chat-activity-button").addEventListener("click", () => {
      this.activity.open(this.activeId).catch((error) => this.notify(error.message));
    });
    this.toolMode.addEventListener("change", () => this.setToolMode(this.toolMode.value));
    const openModels = () => this.models.open().catch((error) => this.notify(error.message));
    $("models-button").addEventListener("click", openModels);
    $("settings-open-models").addEventListener("click", () => {
      $("settings-pane").close();
      openModels();
    });
    $("settings-button").addEventListener("click", () => {
      this.settings.open().catch((error) => this.notify(error.message));
    });
  }

  shortcut(event) {
    const command = event.ctrlKey || event.metaKey;
    if (event.key === "Escape" && this.activeId && this.busy.has(this.activeId)) this.stop();
    else if (command && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "n") {
      event.preventDefault();
      this.newChat();
    } else if (command && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      this.sidebar.focusSearch();
    }
  }

  listen(after) {
    const events = new EventStream(this.api, after);
    const here = (event) => event.conversation_id === this.activeId;
    let restarting = false;
    events.on("download_progress", ({ download }) => {
      this.models.onDownload(download);
      this.firstRun.dismiss(); // the welcome's "get the recommended model" is under way
      if (download.state === "done" && !this.models.dialog.open) {
        this.notifyBriefly(`${download.file} is downloaded and verified: choose it in Models.`);
      }
    });
    events.on("models_changed", () => this.models.onModelsChanged());
    events.on("model_status", (event) => {
      this.status.showModel(event.status);
      this.models.onModelStatus(event.status);
      if (restarting && event.status.state === "ready") {
        restarting = false;
        this.notifyBriefly(RUNNING_AGAIN);
      } else if (restarting && event.status.state === "error") {
        restarting = false;
        this.notify(event.status.error.message);
      }
    });
    events.on("engine_crashed", (event) => {
      // After too many crashes it is not restarted: the status line then says so, with Restart.
      restarting = event.restarting;
      if (restarting) this.warn(`${event.message}. Restarting it…`);
      else if ($("notice-text").textContent === RUNNING_AGAIN) this.notice.hide(); // not any more
    });
    events.on("reply_queued", (event) => {
      this.setBusy(event.conversation_id, true);
      this.streams.set(event.conversation_id, "");
      // One reply is written at a time; another one may even be waiting for an approval.
      if (event.ahead > 0) this.pendingNotes.set(event.conversation_id, WAITING_FOR_ANOTHER);
      if (here(event)) {
        this.chat.beginReply();
        if (event.ahead > 0) this.chat.setPendingNote(WAITING_FOR_ANOTHER);
      }
    });
    events.on("reply_started", (event) => {
      this.pendingNotes.set(event.conversation_id, "Thinking…");
      if (here(event)) this.chat.setPendingNote("Thinking…");
    });
    events.on("token", (event) => {
      this.streams.set(event.conversation_id, (this.streams.get(event.conversation_id) ?? "") + event.text);
      if (here(event)) this.chat.appendToken(event.text);
    });
    events.on("tool_call", (event) => {
      const calls = this.liveCalls.get(event.conversation_id) ?? new Map();
      calls.set(event.call.id, event);
      this.liveCalls.set(event.conversation_id, calls);
      this.streams.set(event.conversation_id, ""); // the text so far now belongs to the round
      if (here(event)) this.chat.showToolCall(event.conversation_id, event.call, event.text);
    });
    events.on("history_trimmed", (event) => {
      if (here(event)) this.chat.markTrimmed(event.dropped_messages);
    });
    events.on("reply_done", (event) => {
      this.streams.delete(event.conversation_id);
      this.pendingNotes.delete(event.conversation_id);
      this.liveCalls.delete(event.conversation_id);
      this.setBusy(event.conversation_id, false);
      if (event.stats) this.status.showSpeed(event.stats);
      if (here(event) && Number.isFinite(event.stats?.prompt_tokens)) this.status.showContext(event.stats);
      else if (here(event)) this.showUsage(event.conversation_id); // said from the results: counted
      if (here(event)) this.chat.finishReply(event);
      this.refreshList();
    });
    events.on("reply_failed", (event) => {
      this.streams.delete(event.conversation_id);
      this.pendingNotes.delete(event.conversation_id);
      this.liveCalls.delete(event.conversation_id);
      this.setBusy(event.conversation_id, false);
      if (here(event)) {
        this.chat.failReply(event.error, event.message);
        this.showUsage(event.conversation_id);
      }
    });
    events.start();
  }

  setBusy(conversationId, busy) {
    if (busy) this.busy.add(conversationId);
    else this.busy.delete(conversationId);
    this.updateComposer();
    this.renderList();
  }

  updateComposer() {
    const busy = this.activeId !== null && this.busy.has(this.activeId);
    $("send-button").hidden = busy;
    $("stop-button").hidden = !busy;
    this.chat.setBusy(busy);
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 240)}px`;
  }

  async refreshList() {
    this.conversations = await this.api.call("list_conversations");
    if (this.sidebar.query) await this.search(this.sidebar.query);
    else this.renderList();
  }

  renderList() {
    this.sidebar.render(this.searchResults ?? this.conversations, this.activeId, this.busy);
  }

  async search(query) {
    try {
      this.searchResults = query ? await this.api.call("search_conversations", { query }) : null;
      this.renderList();
    } catch (error) {
      this.notify(error.message);
    }
  }

  showHeader(conversation) {
    $("chat-title").textContent = conversation ? conversation.title : "New chat";
    for (const id of ["rename-button", "delete-button", "export-markdown-button", "export-json-button"]) {
      $(id).hidden = !conversation;
    }
  }

  async open(conversationId, ticket = this.nav.begin()) {
    try {
      const { conversation, messages, live } = await this.api.call("get_conversation", { conversation_id: conversationId });
      if (live && !this.liveCalls.has(conversationId)) this.adoptLiveReply(conversationId, live);
      if (!this.nav.arrive(ticket, conversation.id)) return; // the user went elsewhere meanwhile
      this.showHeader(conversation);
      this.chat.showMessages(messages);
      if (!this.busy.has(conversation.id)) this.showUsage(conversation.id); // else: on reply_done
      if (this.busy.has(conversation.id)) this.resumeReply(conversation.id);
      this.toolMode.value = conversation.tool_mode;
      $("chat-activity-button").hidden = false;
      this.updateComposer();
      this.renderList();
    } catch (error) {
      this.notify(error.message);
    }
  }

  // The context the conversation fills, counted by the backend (a saved failure or an
  // imported conversation has no reply statistics to go by).
  async showUsage(conversationId) {
    this.status.showContext(null);
    try {
      const { tokens } = await this.api.call("context_usage", { conversation_id: conversationId });
      if (this.activeId === conversationId) this.status.showTokens(tokens);
    } catch {
      if (this.activeId === conversationId) this.status.showTokens(undefined); // no model to count with
    }
  }

  async restartModel() {
    try {
      await this.api.call("restart_model");
    } catch (error) {
      this.notify(error.message);
    }
  }

  // A reply that was being written before this page loaded: what it has done so far.
  adoptLiveReply(conversationId, live) {
    const calls = new Map();
    for (const call of live.tool_calls) {
      calls.set(call.id, { call, text: live.round_texts[call.round] ?? "" });
    }
    this.liveCalls.set(conversationId, calls);
    this.streams.set(conversationId, live.text);
  }

  // Back to a conversation whose reply is still being written: its cards, then its text.
  resumeReply(conversationId) {
    this.chat.beginReply();
    for (const event of this.liveCalls.get(conversationId)?.values() ?? []) {
      this.chat.showToolCall(conversationId, event.call, event.text);
    }
    const text = this.streams.get(conversationId);
    if (text) this.chat.appendToken(text);
  }

  async answerToolCall(call, answer, reason) {
    try {
      await this.api.call("answer_tool_call", {
        conversation_id: this.activeId, call_id: call.id, answer, reason,
      });
    } catch (error) {
      this.notify(error.message);
    }
  }

  async setToolMode(mode) {
    if (!this.activeId) return; // a new chat gets it when its first message is sent
    try {
      await this.api.call("set_tool_mode", { conversation_id: this.activeId, mode });
    } catch (error) {
      this.notify(error.message);
    }
  }

  newChat() {
    this.nav.go(null);
    this.showHeader(null);
    this.chat.clear();
    this.toolMode.value = "auto";
    $("chat-activity-button").hidden = true;
    this.status.showContext(null);
    this.updateComposer();
    this.renderList();
    this.input.focus();
  }

  async send() {
    const text = this.input.value;
    if (!text.trim()) return;
    let conversationId = this.activeId;
    if (conversationId && this.busy.has(conversationId)) return;
    this.firstRun.hide(); // the user has moved on: a new chat shows the plain empty state
    // The message goes to the conversation on screen, and the screen stays there: a move still
    // under way (start-up's "open the latest") is cancelled, a later one wins.
    const here = this.nav.begin();
    try {
      // A new chat is one request: its tool mode comes with its first message.
      const toolMode = conversationId ? null : this.toolMode.value;
      const sent = await this.api.call("send_message", { conversation_id: conversationId, text, tool_mode: toolMode });
      this.input.value = "";
      this.autosize();
      if (!this.nav.arrive(here, sent.conversation.id)) {
        await this.refreshList(); // sent; the user has moved to another conversation meanwhile
        return;
      }
      this.showHeader(sent.conversation);
      $("chat-activity-button").hidden = false;
      this.chat.addMessage(sent.message);
      // The reply bubble may already exist if reply_queued arrived first: keep it last.
      if (this.chat.pending) this.chat.root.append(this.chat.pending);
      else if (this.busy.has(this.activeId)) this.chat.beginReply(this.streams.get(this.activeId) ?? "");
      // A new chat learns its id only now: say what its reply's events said meanwhile.
      const note = this.pendingNotes.get(this.activeId);
      if (note && this.chat.pending && !this.streams.get(this.activeId)) this.chat.setPendingNote(note);
      this.chat.scrollToEnd(true);
      this.updateComposer();
      await this.refreshList();
    } catch (error) {
      this.notify(error.message);
    }
  }

  async stop() {
    if (!this.activeId) return;
    try {
      await this.api.call("stop_generation", { conversation_id: this.activeId });
    } catch (error) {
      this.notify(error.message);
    }
  }

  async retry(conversationId) {
    try {
      await this.api.call("retry_reply", { conversation_id: conversationId });
    } catch (error) {
      this.notify(error.message);
    }
  }

  // Regenerate and edit replace later turns in the backend; the view is rebuilt from it.
  async regenerate() {
    await this.replaceLaterTurns("regenerate_reply", {});
  }

  async editAndResend(messageId, text) {
    await this.replaceLaterTurns("edit_message", { message_id: messageId, text });
  }

  async replaceLaterTurns(method, params) {
    const conversationId = this.activeId;
    try {
      await this.api.call(method, { conversation_id: conversationId, ...params });
      if (this.activeId === conversationId) await this.open(conversationId);
      this.input.focus();
    } catch (error) {
      this.notify(error.message);
    }
  }

  async export(format) {
    try {
      const done = await exportConversation(this.api, this.activeId, format);
      if (done) this.notifyBriefly(done);
    } catch (error) {
      this.notify(error.message);
    }
  }

  async import() {
    const file = $("import-file").files[0];
    $("import-file").value = "";
    if (!file) return;
    try {
      const conversation = await importConversation(this.api, file);
      await this.refreshList();
      await this.open(conversation.id);
      this.notifyBriefly(`Imported “${conversation.title}”.`);
    } catch (error) {
      this.notify(`Could not import ${file.name}: ${error.message}`);
    }
  }

  async rename() {
    const current = this.conversations.find((c) => c.id === this.activeId);
    const title = await promptDialog({ title: "Rename conversation", value: current?.title ?? "", confirmLabel: "Rename" });
    if (!title || !title.trim()) return;
    try {
      const renamed = await this.api.call("rename_conversation", { conversation_id: this.activeId, title });
      this.showHeader(renamed);
      await this.refreshList();
    } catch (error) {
      this.notify(error.message);
    }
  }

  // No confirmation first: the delete can be undone from the notice until the app closes.
  async remove() {
    const conversationId = this.activeId;
    const title = $("chat-title").textContent;
    try {
      await this.api.call("delete_conversation", { conversation_id: conversationId });
      this.newChat();
      await this.refreshList();
      this.notify(`Deleted “${title}”.`, {
        label: "Undo",
        run: () => this.restore(conversationId),
      }, "info");
    } catch (error) {
      this.notify(error.message);
    }
  }

  async restore(conversationId) {
    try {
      await this.api.call("restore_conversation", { conversation_id: conversationId });
      await this.refreshList();
      await this.open(conversationId);
    } catch (error) {
      this.notify(error.message);
    }
  }

  // A problem, unless told otherwise (kind: "error", "warning", "info" or "success").
  notify(message, action = null, kind = "error") {
    this.notice.show(message, { kind, action });
  }

  warn(message) {
    this.notice.show(message, { kind: "warning" });
  }

  // Good news that goes away by itself.
  notifyBriefly(message) {
    this.notice.show(message, { kind: "success", brief: true });
  }
}

async function main() {
  const api = await connect();
  const app = new App(api);
  await app.start();
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  const notice = document.querySelector('[data-testid="notice"]');
  document.querySelector('[data-testid="notice-text"]').textContent = `LocalWork Hero could not start: ${error.message}`;
  notice.hidden = false;
});
