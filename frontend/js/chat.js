// The message list. Model output is untrusted: replies become sanitized Markdown through
// markdown.js and everything else is set with textContent, never as markup.

import { element } from "./dom.js";
import { copyButton, renderMarkdown } from "./markdown.js";
import { reasoningFold, showReasoning, showStoredReasoning, THINKING, thoughtFor } from "./reasoning.js";
import { ToolCards } from "./toolcards.js";

// While a reply streams, its Markdown is rebuilt at most this often (then once at the end),
// and at most once for each batch of events, whose pace the bridge sets (events.js).
export const RENDER_INTERVAL_MS = 130;

export function describeStats(stats, stopped) {
  const parts = [];
  // Stats may come from an imported file: only numbers are shown.
  if (Number.isFinite(stats?.completion_tokens)) parts.push(`${stats.completion_tokens} tokens`);
  if (Number.isFinite(stats?.tokens_per_second)) parts.push(`${stats.tokens_per_second.toFixed(1)} tok/s`);
  if (stopped) parts.push("stopped");
  return parts.join(" · ");
}

export class ChatView {
  constructor(root, { onRetry, onContinueLocally, onAnswer, onRegenerate, onEdit }) {
    this.root = root;
    this.onRetry = onRetry;
    this.onContinueLocally = onContinueLocally;
    this.cards = new ToolCards({ onAnswer });
    this.onRegenerate = onRegenerate;
    this.onEdit = onEdit;
    this.welcome = root.querySelector('[data-testid="welcome"]');
    this.pending = null;
    this.pendingText = "";
    this.resetThinking();
    this.texts = new WeakMap(); // message node → its raw text, for Copy and Edit
    this.renderQueued = false;
    this.lastRender = 0;
  }

  // The reasoning of the reply being written, and when it came (for "Thought for N s").
  resetThinking() {
    this.pendingReasoning = "";
    this.thinking = { started: null, last: null };
    this.phase = null; // "thinking" or "writing": what the reply's meta line says now
  }

  clear() {
    for (const node of [...this.root.children]) {
      if (node !== this.welcome) node.remove();
    }
    this.pending = null;
    this.pendingText = "";
    this.resetThinking();
    this.welcome.hidden = false;
  }

  showMessages(messages) {
    this.clear();
    for (const message of messages) this.addMessage(message);
    this.scrollToEnd(true);
  }

  addMessage(message) {
    const meta = message.meta ?? {};
    const state = meta.stopped ? "stopped" : "done";
    if (meta.stats?.dropped_messages) this.markTrimmed(meta.stats.dropped_messages);
    const node = this.buildMessage(message.role, message.content, state);
    node.dataset.messageId = message.id;
    if (message.role === "assistant") {
      if (meta.reasoning) showStoredReasoning(node, meta.reasoning);
      this.cards.showStored(node, meta);
      node.querySelector(".message-meta").textContent = describeStats(meta.stats, meta.stopped);
      // A saved failure (possibly imported): shown as it was when it happened.
      if (meta.error && typeof meta.error === "object") this.showFailure(node, meta.error);
    }
    this.refreshActions();
    return node;
  }

  buildMessage(role, text, state) {
    this.welcome.hidden = true;
    this.dropRoom();
    const node = element("article", {
      class: `message ${role}`,
      "data-testid": `message-${role}`,
      "data-state": state,
      "aria-label": role === "user" ? "Your message" : "Assistant's reply",
    });
    const label = element("div", { class: "message-role", text: role === "user" ? "You" : "Assistant" });
    const tools = element("div", { class: "message-tools" });
    const body = element("div", {
      class: `message-text${role === "assistant" ? " markdown" : ""}`,
      "data-testid": "message-text",
    });
    const meta = element("div", { class: "message-meta", "data-testid": "message-meta" });
    node.append(label);
    if (role === "assistant") node.append(reasoningFold());
    node.append(tools, body, meta, this.buildActions(node, role));
    this.setText(node, text);
    this.root.append(node);
    return node;
  }

  setText(node, text, final = true) {
    this.texts.set(node, text);
    const body = node.querySelector(".message-text");
    if (node.classList.contains("assistant")) renderMarkdown(body, text, { final });
    else body.textContent = text;
  }

  buildActions(node, role) {
    const actions = element("div", { class: "message-actions", role: "group", "aria-label": "Message actions" });
    const label = role === "user" ? "Copy message" : "Copy reply";
    actions.append(copyButton(() => this.texts.get(node) ?? "", label, "copy-message"));
    const action = (text, ariaLabel, testId, handler) => {
      const button = element("button", {
        class: "message-action needs-idle", type: "button", "aria-label": ariaLabel, "data-testid": testId, text,
      });
      button.addEventListener("click", handler);
      actions.append(button);
    };
    if (role === "user") action("Edit", "Edit message", "edit-button", () => this.startEdit(node));
    else action("Regenerate", "Regenerate reply", "regenerate-button", () => this.onRegenerate());
    return actions;
  }

  // Only the last message can be regenerated, when it is a reply: earlier ones have answers
  // built on them, and a failed one has Retry instead.
  refreshActions() {
    const last = [...this.root.querySelectorAll(".message")].at(-1);
    for (const reply of this.root.querySelectorAll(".message.assistant")) {
      const button = reply.querySelector('[data-testid="regenerate-button"]');
      if (button) button.hidden = reply !== last || reply === this.pending || reply.dataset.state === "failed";
      const retry = reply.querySelector('[data-testid="retry-button"]');
      if (retry) retry.hidden = reply !== last; // an earlier failure was answered since
      const local = reply.querySelector('[data-testid="continue-locally-button"]');
      if (local) local.hidden = reply !== last;
    }
  }

  setBusy(busy) {
    if (this.root.dataset.busy !== String(busy)) this.root.dataset.busy = String(busy);
  }

  startEdit(node) {
    const body = node.querySelector(".message-text");
    const form = element("form", { class: "edit-form", "data-testid": "edit-form" });
    const input = element("textarea", { "aria-label": "Edit your message", rows: "3" });
    input.value = this.texts.get(node) ?? "";
    const save = element("button", { type: "submit", "data-testid": "edit-save", text: "Save and send" });
    const cancel = element("button", { class: "secondary", type: "button", "data-testid": "edit-cancel", text: "Cancel" });
    const buttons = element("div", { class: "edit-buttons" });
    buttons.append(cancel, save);
    form.append(input, buttons);
    const finish = () => {
      form.remove();
      body.hidden = false;
    };
    cancel.addEventListener("click", finish);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.stopPropagation(); finish(); }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!input.value.trim()) return;
      finish();
      this.onEdit(Number(node.dataset.messageId), input.value);
    });
    body.hidden = true;
    body.after(form);
    input.focus();
  }

  // A reply being written: created on queue, filled by tokens, finished by done/failed.
  beginReply(text = "") {
    if (!this.pending) {
      this.pendingText = text;
      this.pending = this.buildMessage("assistant", text, "waiting");
      this.pending.querySelector(".message-meta").textContent = "Thinking…";
      this.lastRender = 0; // a new reply's first text is drawn at once
      this.refreshActions();
    }
    this.scrollToEnd(true);
    return this.pending;
  }

  // After a message was added: the reply being written, if any, moves below it (true).
  keepReplyLast() {
    if (!this.pending) return false;
    this.root.append(this.pending);
    return true;
  }

  // Called for each batch of streamed text: it only keeps the text. Touching the page here
  // (a label, a layout read) made every batch restyle and redraw the reply.
  appendToken(text) {
    if (!this.pending) this.beginReply();
    this.phase = "writing";
    this.pendingText += text;
    this.scheduleRender();
  }

  // The model's reasoning, streamed like the text (and drawn in the same throttled frame).
  // `refiled`: it is text already shown as the answer, which moves into the fold.
  appendReasoning(text, refiled = false) {
    if (!this.pending) this.beginReply();
    if (refiled) {
      const at = this.pendingText.startsWith(text) ? 0 : this.pendingText.indexOf(text);
      if (at >= 0) this.pendingText = this.pendingText.slice(0, at) + this.pendingText.slice(at + text.length);
    }
    const now = performance.now();
    this.thinking.started ??= now;
    this.thinking.last = now;
    this.phase = "thinking";
    this.pendingReasoning += text;
    this.scheduleRender();
  }

  // The meta line says what the reply is doing, drawn in the frame that draws its text (the
  // first token is one frame, not two); it changes only when that does.
  showPhase(node) {
    if (!this.phase) return; // a tool call's card says what is happening
    if (node.dataset.state !== "streaming") node.dataset.state = "streaming";
    const meta = node.querySelector(".message-meta");
    const text = this.phase === "thinking" ? THINKING : "Writing…";
    if (meta.textContent !== text) meta.textContent = text;
  }

  // The fold's summary while the reply is written: thinking, or how long it thought.
  pendingSummary() {
    if (this.phase === "thinking") return THINKING;
    return thoughtFor((this.thinking.last - this.thinking.started) / 1000);
  }

  // Rebuilding the Markdown for every token would stall the page: at most one rebuild per
  // RENDER_INTERVAL_MS, in a frame.
  scheduleRender() {
    if (this.renderQueued) return;
    this.renderQueued = true;
    const wait = Math.max(0, RENDER_INTERVAL_MS - (performance.now() - this.lastRender));
    setTimeout(() => requestAnimationFrame(() => {
      this.renderQueued = false;
      if (!this.pending) return;
      const nearEnd = this.isNearEnd(); // read before the change: the layout is still clean
      this.showPhase(this.pending);
      if (this.pendingReasoning) showReasoning(this.pending, this.pendingReasoning, this.pendingSummary());
      this.setText(this.pending, this.pendingText, false);
      this.lastRender = performance.now();
      if (nearEnd) this.follow(this.pending);
    }), wait);
  }

  // While a reply streams and the view is at its end, the view follows it a third of a screen
  // at a time: the reply gets that much room below its text, and the view moves again only
  // once the text has filled it. Each move repaints the whole list and shifts the text being
  // read; in the Qt window, a frame that moves the view costs half as much again as one that
  // does not (CPU the local model's threads lose), so a move every few frames keeps both rare.
  follow(node) {
    const end = node.querySelector(".message-meta").getBoundingClientRect().bottom;
    const view = this.root.getBoundingClientRect();
    const padding = parseFloat(getComputedStyle(this.root).paddingBottom) || 0;
    if (end <= view.bottom - padding) return; // the end is in view: nothing moves
    const room = Math.round(this.root.clientHeight / 3);
    node.style.minHeight = `${Math.ceil(end - node.getBoundingClientRect().top) + room}px`;
    this.root.scrollTop = this.root.scrollHeight;
  }

  // The room a reply was given while it streamed goes with the next message.
  dropRoom() {
    for (const node of this.root.querySelectorAll(".message[style]")) node.style.minHeight = "";
  }

  setPendingNote(text) {
    const node = this.pending;
    const meta = node?.dataset.state === "waiting" ? node.querySelector(".message-meta") : null;
    if (meta && meta.textContent !== text) meta.textContent = text; // the same text: no redraw
  }

  // A tool call started or changed (live): its card appears in the reply being written.
  showToolCall(conversationId, call, roundText) {
    const node = this.pending ?? this.beginReply();
    const nearEnd = this.isNearEnd();
    node.dataset.state = "streaming";
    // What streamed so far is this round's text: the cards show it, above the call.
    this.pendingText = "";
    this.phase = null; // text after the call is a new phase: "Writing…" again
    this.setText(node, "", false);
    this.cards.update(node, conversationId, call, roundText);
    node.querySelector(".message-meta").textContent =
      call.status === "waiting" ? "Waiting for your approval…" : "Working…";
    if (nearEnd || call.status === "waiting") this.scrollToEnd(true);
  }

  finishReply({ stopped, stats, message }) {
    const node = this.pending;
    const text = message?.content ?? this.pendingText;
    const reasoning = message?.meta?.reasoning;
    this.pending = null;
    this.pendingText = "";
    this.resetThinking();
    if (!node) return;
    if (!message && !text) {
      node.remove();
      this.refreshActions();
      return;
    }
    // The stored text is the reply as kept (e.g. without markup the model imitated).
    this.setText(node, text);
    showStoredReasoning(node, reasoning);
    if (message) node.dataset.messageId = message.id;
    if (message?.meta?.notice) this.cards.showNotice(node, message.meta.notice);
    node.dataset.state = stopped ? "stopped" : "done";
    node.querySelector(".message-meta").textContent = describeStats(stats, stopped);
    this.refreshActions();
  }

  // The live failure: the reply being written becomes the saved failure (same as a reload).
  failReply(failure, message) {
    const node = this.pending ?? this.beginReply();
    this.pending = null;
    this.pendingText = "";
    this.resetThinking();
    if (message) node.dataset.messageId = message.id;
    this.setText(node, message?.content ?? ""); // a dropped stream's text stays, above the error
    showStoredReasoning(node, message?.meta?.reasoning);
    this.showFailure(node, failure);
    this.scrollToEnd(true);
  }

  // What went wrong, what to do, and Retry only when trying again can change the outcome; a
  // server's failure also offers to answer with the local model instead.
  showFailure(node, failure) {
    node.dataset.state = "failed";
    node.classList.add("failed");
    const box = element("div", { class: "failure", "data-testid": "failure", role: "note" });
    box.append(element("p", {
      class: "failure-reason", "data-testid": "failure-reason", text: String(failure.message ?? "The reply failed."),
    }));
    if (failure.advice) {
      box.append(element("p", { class: "failure-advice", "data-testid": "failure-advice", text: String(failure.advice) }));
    }
    node.querySelector(".message-text").after(box);
    const meta = node.querySelector(".message-meta");
    meta.textContent = "";
    if (failure.retry !== false) {
      const actions = element("div", { class: "failure-actions" });
      const again = (text, testId, title, handler) => {
        const button = element("button", { class: "retry", type: "button", "data-testid": testId, text, title });
        button.addEventListener("click", () => {
          node.remove(); // the backend forgets the failure too; the new reply streams in
          this.refreshActions();
          handler();
        });
        actions.append(button);
      };
      again("Retry", "retry-button", undefined, () => this.onRetry());
      if (String(failure.code ?? "").startsWith("remote_")) {
        again("Continue on the local model", "continue-locally-button",
          "Answer this message with the model on this computer you used last", () => this.onContinueLocally());
      }
      meta.append(actions);
    }
    this.refreshActions();
  }

  markTrimmed(count) {
    this.welcome.hidden = true;
    const marker = element("div", {
      class: "trimmed",
      "data-testid": "trimmed-marker",
      role: "note",
      text: `${count} older message${count === 1 ? " was" : "s were"} left out so the conversation fits the model's context.`,
    });
    this.root.insertBefore(marker, this.pending ?? null);
  }

  isNearEnd() {
    return this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 80;
  }

  scrollToEnd(force = false) {
    if (force || this.isNearEnd()) this.root.scrollTop = this.root.scrollHeight;
  }
}
