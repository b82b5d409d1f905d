// The composer: the message box (Enter sends, Shift+Enter is a new line, it grows with its
// text), the conversation's tool mode beside it, and Send, or Stop while the reply on screen
// is being written.

import { byTestId } from "./dom.js";

const TALLEST_PX = 240;

export class Composer {
  constructor({ onSend, onStop, onToolMode }, root = document) {
    this.input = byTestId(root, "composer-input");
    this.mode = byTestId(root, "tool-mode");
    this.sendButton = byTestId(root, "send-button");
    this.stopButton = byTestId(root, "stop-button");
    byTestId(root, "composer").addEventListener("submit", (event) => {
      event.preventDefault();
      onSend();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        onSend();
      }
    });
    this.input.addEventListener("input", () => this.autosize());
    this.stopButton.addEventListener("click", () => onStop());
    this.mode.addEventListener("change", () => onToolMode(this.mode.value));
  }

  get text() {
    return this.input.value;
  }

  // After a message is sent.
  clear() {
    this.input.value = "";
    this.autosize();
  }

  focus() {
    this.input.focus();
  }

  get toolMode() {
    return this.mode.value;
  }

  set toolMode(mode) {
    this.mode.value = mode;
  }

  // Busy: the reply on screen is being written, so Stop takes Send's place.
  setBusy(busy) {
    if (this.sendButton.hidden === busy) return; // unchanged: no restyle, no frame
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, TALLEST_PX)}px`;
  }
}
