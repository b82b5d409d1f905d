// The replies being written, per conversation, as the event stream tells them: which
// conversations are busy, the text, reasoning and tool calls so far, and what a reply is
// waiting for.
// The conversation on screen shows its reply live in the chat view; another one's is kept
// here until it is opened again.

const WAITING_FOR_ANOTHER = "Waiting for the reply in another conversation to finish…";

export class Replies {
  // `onBusy()`: a conversation started or ended a reply. `onUsage(id)`: the reply on screen
  // ended without saying how much context it used. `onDone()`: a reply was saved.
  constructor({ nav, chat, status }, { onBusy, onUsage, onDone }) {
    this.nav = nav;
    this.chat = chat;
    this.status = status;
    this.onBusy = onBusy;
    this.onUsage = onUsage;
    this.onDone = onDone;
    this.busy = new Set();
    this.streams = new Map(); // conversation id → text streamed so far
    this.thoughts = new Map(); // conversation id → reasoning streamed so far
    this.pendingNotes = new Map(); // conversation id → what its reply is waiting for
    this.liveCalls = new Map(); // conversation id → tool_call events of the reply being written
    this.prompts = new Map(); // conversation id → its reply's prompt size, until the meter shows it
  }

  isBusy(conversationId) {
    return this.busy.has(conversationId);
  }

  // At start-up: the replies already being written.
  markBusy(conversationIds) {
    for (const id of conversationIds) this.busy.add(id);
  }

  // The answer to a send says which event queued its reply. It can come before that event
  // does: then the screen shows the reply queued now, in the same draw as the message, and the
  // event changes nothing when it comes. (Events come in order: one already past that seq
  // told the queueing, and maybe the end, itself.)
  queued(conversationId, queuedSeq) {
    if (!this.events || this.events.after >= queuedSeq || this.busy.has(conversationId)) return;
    this.streams.set(conversationId, "");
    this.thoughts.delete(conversationId);
    this.setBusy(conversationId, true);
  }

  listen(events) {
    this.events = events;
    const here = (event) => event.conversation_id === this.nav.activeId;
    events.on("reply_queued", (event) => {
      this.setBusy(event.conversation_id, true);
      this.streams.set(event.conversation_id, "");
      this.thoughts.delete(event.conversation_id);
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
    events.on("reply_context", (event) => this.prompts.set(event.conversation_id, event.prompt_tokens));
    events.on("token", (event) => {
      this.streams.set(event.conversation_id, (this.streams.get(event.conversation_id) ?? "") + event.text);
      if (here(event)) {
        this.showPrompt(event.conversation_id);
        this.chat.appendToken(event.text);
      }
    });
    events.on("reasoning", (event) => {
      const id = event.conversation_id;
      if (event.refiled) { // the text so far was reasoning: it leaves the answer
        const text = this.streams.get(id) ?? "";
        if (text.startsWith(event.text)) this.streams.set(id, text.slice(event.text.length));
      }
      this.thoughts.set(id, (this.thoughts.get(id) ?? "") + event.text);
      if (here(event)) {
        this.showPrompt(id);
        this.chat.appendReasoning(event.text, event.refiled);
      }
    });
    events.on("tool_call", (event) => {
      const calls = this.liveCalls.get(event.conversation_id) ?? new Map();
      calls.set(event.call.id, event);
      this.liveCalls.set(event.conversation_id, calls);
      this.streams.set(event.conversation_id, ""); // the text so far now belongs to the round
      if (here(event)) {
        this.showPrompt(event.conversation_id);
        this.chat.showToolCall(event.conversation_id, event.call, event.text);
      }
    });
    events.on("history_trimmed", (event) => {
      if (here(event)) this.chat.markTrimmed(event.dropped_messages);
    });
    events.on("reply_done", (event) => {
      this.forget(event.conversation_id);
      this.setBusy(event.conversation_id, false);
      if (event.stats) this.status.showSpeed(event.stats);
      if (here(event) && Number.isFinite(event.stats?.prompt_tokens)) this.status.showContext(event.stats);
      else if (here(event)) this.onUsage(event.conversation_id); // said from the results: counted
      if (here(event)) this.chat.finishReply(event);
      this.onDone();
    });
    events.on("reply_failed", (event) => {
      this.forget(event.conversation_id);
      this.setBusy(event.conversation_id, false);
      if (here(event)) {
        this.chat.failReply(event.error, event.message);
        this.onUsage(event.conversation_id);
      }
    });
  }

  setBusy(conversationId, busy) {
    if (busy) this.busy.add(conversationId);
    else this.busy.delete(conversationId);
    this.onBusy();
  }

  // The meter shows what a reply's prompt holds with the reply's first text or call: in that
  // frame, not in one of its own while llama.cpp reads the prompt (it would slow the reading).
  showPrompt(conversationId) {
    const tokens = this.prompts.get(conversationId);
    if (tokens === undefined) return;
    this.prompts.delete(conversationId);
    this.status.showTokens(tokens);
  }

  forget(conversationId) {
    this.streams.delete(conversationId);
    this.prompts.delete(conversationId);
    this.thoughts.delete(conversationId);
    this.pendingNotes.delete(conversationId);
    this.liveCalls.delete(conversationId);
  }

  // A reply that was being written before this page loaded: what it has done so far.
  adopt(conversationId, live) {
    if (!live || this.liveCalls.has(conversationId)) return;
    const calls = new Map();
    for (const call of live.tool_calls) {
      calls.set(call.id, { call, text: live.round_texts[call.round] ?? "" });
    }
    this.liveCalls.set(conversationId, calls);
    this.streams.set(conversationId, live.text);
    if (live.reasoning) this.thoughts.set(conversationId, live.reasoning);
  }

  // Back to a conversation whose reply is still being written: its cards, then its text.
  resume(conversationId) {
    this.chat.beginReply();
    for (const event of this.liveCalls.get(conversationId)?.values() ?? []) {
      this.chat.showToolCall(conversationId, event.call, event.text);
    }
    const thought = this.thoughts.get(conversationId);
    if (thought) this.chat.appendReasoning(thought);
    const text = this.streams.get(conversationId);
    if (text) this.chat.appendToken(text);
  }

  // The user's message was just added to the screen: its reply stays below it. A new chat
  // learns its id only now, so this says what the reply's events said meanwhile.
  followMessage(conversationId) {
    if (!this.chat.keepReplyLast() && this.busy.has(conversationId)) {
      this.chat.beginReply(this.streams.get(conversationId) ?? "");
      const thought = this.thoughts.get(conversationId);
      if (thought) this.chat.appendReasoning(thought);
    }
    const note = this.pendingNotes.get(conversationId);
    if (note && !this.streams.get(conversationId)) this.chat.setPendingNote(note);
  }
}
