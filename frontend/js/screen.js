// The conversation on screen: opening one, starting a new chat, sending a message, and what
// the user does to its replies (stop, retry or continue on the local model, regenerate, edit
// and resend, approve a tool call), with its tool mode and the context it fills.

export class ChatScreen {
  constructor({ api, nav, chat, composer, header, replies, conversations, status, notice, firstRun }) {
    this.api = api;
    this.nav = nav;
    this.chat = chat;
    this.composer = composer;
    this.header = header;
    this.replies = replies;
    this.conversations = conversations;
    this.status = status;
    this.notice = notice;
    this.firstRun = firstRun;
  }

  // The conversation on screen (null: a new chat). Only this.nav changes it.
  get activeId() {
    return this.nav.activeId;
  }

  // Its reply is being written.
  get writing() {
    return this.activeId !== null && this.replies.isBusy(this.activeId);
  }

  open(conversationId, ticket = this.nav.begin()) {
    return this.notice.guard(async () => {
      const { conversation, messages, live } = await this.api.call("get_conversation", { conversation_id: conversationId });
      this.replies.adopt(conversationId, live);
      if (!this.nav.arrive(ticket, conversation.id)) return; // the user went elsewhere meanwhile
      this.header.show(conversation);
      this.chat.showMessages(messages);
      if (!this.replies.isBusy(conversation.id)) this.showUsage(conversation.id); // else: on reply_done
      if (this.replies.isBusy(conversation.id)) this.replies.resume(conversation.id);
      this.composer.toolMode = conversation.tool_mode;
      this.updateComposer();
      this.conversations.render();
    });
  }

  newChat() {
    this.nav.go(null);
    this.header.show(null);
    this.chat.clear();
    this.composer.toolMode = "auto";
    this.status.showContext(null);
    this.updateComposer();
    this.conversations.render();
    this.composer.focus();
  }

  updateComposer() {
    const busy = this.writing;
    this.composer.setBusy(busy);
    this.chat.setBusy(busy);
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

  async send() {
    const text = this.composer.text;
    if (!text.trim()) return;
    const conversationId = this.activeId;
    if (conversationId && this.replies.isBusy(conversationId)) return;
    this.firstRun.hide(); // the user has moved on: a new chat shows the plain empty state
    // The message goes to the conversation on screen, and the screen stays there: a move still
    // under way (start-up's "open the latest") is cancelled, a later one wins.
    const here = this.nav.begin();
    await this.notice.guard(async () => {
      // A new chat is one request: its tool mode comes with its first message.
      const toolMode = conversationId ? null : this.composer.toolMode;
      const sent = await this.api.call("send_message", { conversation_id: conversationId, text, tool_mode: toolMode });
      this.composer.clear();
      if (!this.nav.arrive(here, sent.conversation.id)) {
        await this.conversations.refresh(); // sent; the user has moved to another conversation meanwhile
        return;
      }
      this.header.show(sent.conversation);
      this.chat.addMessage(sent.message);
      this.replies.queued(this.activeId, sent.queued_seq);
      // The reply bubble may already exist if reply_queued arrived first: it stays last.
      this.replies.followMessage(this.activeId);
      this.chat.scrollToEnd(true);
      this.updateComposer();
      this.conversations.showSent(sent.conversation);
    });
  }

  stop() {
    if (!this.activeId) return undefined;
    return this.notice.guard(() => this.api.call("stop_generation", { conversation_id: this.activeId }));
  }

  retry(conversationId) {
    return this.notice.guard(() => this.api.call("retry_reply", { conversation_id: conversationId }));
  }

  // After a server failed: the local model used last answers the same message (it loads first).
  continueLocally(conversationId) {
    return this.notice.guard(() => this.api.call("continue_locally", { conversation_id: conversationId }));
  }

  // Regenerate and edit replace later turns in the backend; the view is rebuilt from it.
  regenerate() {
    return this.replaceLaterTurns("regenerate_reply", {});
  }

  editAndResend(messageId, text) {
    return this.replaceLaterTurns("edit_message", { message_id: messageId, text });
  }

  replaceLaterTurns(method, params) {
    const conversationId = this.activeId;
    return this.notice.guard(async () => {
      await this.api.call(method, { conversation_id: conversationId, ...params });
      if (this.activeId === conversationId) await this.open(conversationId);
      this.composer.focus();
    });
  }

  answerToolCall(call, answer, reason) {
    return this.notice.guard(() => this.api.call("answer_tool_call", {
      conversation_id: this.activeId, call_id: call.id, answer, reason,
    }));
  }

  setToolMode(mode) {
    if (!this.activeId) return undefined; // a new chat gets it when its first message is sent
    return this.notice.guard(() => this.api.call("set_tool_mode", { conversation_id: this.activeId, mode }));
  }
}
