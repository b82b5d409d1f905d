import { ToolCards } from "./toolcards.js";

// The message list. Everything shown here is set with textContent: model output is
// untrusted and must never become markup.

function element(tag, className, attributes = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export function describeStats(stats, stopped) {
  const parts = [];
  if (stats?.completion_tokens != null) parts.push(`${stats.completion_tokens} tokens`);
  if (stats?.tokens_per_second) parts.push(`${stats.tokens_per_second.toFixed(1)} tok/s`);
  if (stopped) parts.push("stopped");
  return parts.join(" · ");
}

export class ChatView {
  constructor(root, { onRetry, onAnswer }) {
    this.root = root;
    this.onRetry = onRetry;
    this.cards = new ToolCards({ onAnswer });
    this.welcome = root.querySelector('[data-testid="welcome"]');
    this.pending = null;
  }

  clear() {
    for (const node of [...this.root.children]) {
      if (node !== this.welcome) node.remove();
    }
    this.pending = null;
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
    if (message.role === "assistant") {
      this.cards.showStored(node, meta);
      node.querySelector(".message-meta").textContent = describeStats(meta.stats, meta.stopped);
    }
    return node;
  }

  buildMessage(role, text, state) {
    this.welcome.hidden = true;
    const node = element("article", `message ${role}`, {
      "data-testid": `message-${role}`,
      "data-state": state,
      "aria-label": role === "user" ? "Your message" : "Assistant's reply",
    });
    const label = element("div", "message-role");
    label.textContent = role === "user" ? "You" : "Assistant";
    const body = element("div", "message-text", { "data-testid": "message-text" });
    body.textContent = text;
    const meta = element("div", "message-meta", { "data-testid": "message-meta" });
    node.append(label, body, meta);
    this.root.append(node);
    return node;
  }

  // A reply being written: created on queue, filled by tokens, finished by done/failed.
  beginReply(text = "") {
    if (!this.pending) this.pending = this.buildMessage("assistant", text, "waiting");
    this.pending.querySelector(".message-meta").textContent = "Thinking…";
    this.scrollToEnd(true);
    return this.pending;
  }

  appendToken(text) {
    const node = this.pending ?? this.beginReply();
    const nearEnd = this.isNearEnd();
    node.dataset.state = "streaming";
    node.querySelector(".message-text").append(text);
    node.querySelector(".message-meta").textContent = "Writing…";
    if (nearEnd) this.scrollToEnd();
  }

  // A tool call started or changed (live): its card appears in the reply being written.
  showToolCall(conversationId, call, roundText) {
    const node = this.pending ?? this.beginReply();
    const nearEnd = this.isNearEnd();
    node.dataset.state = "streaming";
    this.cards.update(node, conversationId, call, roundText);
    node.querySelector(".message-meta").textContent =
      call.status === "waiting" ? "Waiting for your approval…" : "Working…";
    if (nearEnd || call.status === "waiting") this.scrollToEnd(true);
  }

  finishReply({ stopped, stats, message }) {
    const node = this.pending;
    this.pending = null;
    if (!node) return;
    if (!message && !node.querySelector(".message-text").textContent) {
      node.remove();
      return;
    }
    // The stored text is the reply as kept (e.g. without markup the model imitated).
    if (message) node.querySelector(".message-text").textContent = message.content;
    if (message?.meta?.notice) this.cards.showNotice(node, message.meta.notice);
    node.dataset.state = stopped ? "stopped" : "done";
    node.querySelector(".message-meta").textContent = describeStats(stats, stopped);
  }

  failReply(error, conversationId) {
    const node = this.pending ?? this.beginReply();
    this.pending = null;
    node.dataset.state = "failed";
    node.classList.add("failed");
    const body = node.querySelector(".message-text");
    body.textContent = error.message;
    const meta = node.querySelector(".message-meta");
    meta.textContent = "";
    const retry = element("button", "retry", { type: "button", "data-testid": "retry-button" });
    retry.textContent = "Retry";
    retry.addEventListener("click", () => {
      node.remove();
      this.onRetry(conversationId);
    });
    meta.append(retry);
    this.scrollToEnd(true);
  }

  markTrimmed(count) {
    this.welcome.hidden = true;
    const marker = element("div", "trimmed", { "data-testid": "trimmed-marker", role: "note" });
    marker.textContent = `${count} older message${count === 1 ? " was" : "s were"} left out so the conversation fits the model's context.`;
    this.root.insertBefore(marker, this.pending ?? null);
  }

  isNearEnd() {
    return this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 80;
  }

  scrollToEnd(force = false) {
    if (force || this.isNearEnd()) this.root.scrollTop = this.root.scrollHeight;
  }
}
