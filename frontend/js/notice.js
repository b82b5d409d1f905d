// The banner above the chat. Each kind looks different, so good news is never mistaken for a
// problem: success (green), info (neutral), warning (amber) and error (red). Problems are
// announced at once (role="alert"), news politely (role="status").

const BRIEF_MS = 4000;
const KINDS = new Set(["success", "info", "warning", "error"]);

export class Notice {
  constructor(root) {
    this.root = root;
    this.text = root.querySelector('[data-testid="notice-text"]');
    this.actionButton = root.querySelector('[data-testid="notice-action"]');
    this.action = null;
    this.actionButton.addEventListener("click", () => {
      this.hide();
      this.action?.();
    });
    root.querySelector(".notice-close").addEventListener("click", () => this.hide());
  }

  // `action` is an optional {label, run}; a brief notice goes away by itself.
  show(message, { kind = "error", action = null, brief = false } = {}) {
    const shown = KINDS.has(kind) ? kind : "error";
    this.root.dataset.kind = shown;
    this.root.setAttribute("role", shown === "error" || shown === "warning" ? "alert" : "status");
    this.text.textContent = message;
    this.actionButton.textContent = action?.label ?? "";
    this.actionButton.hidden = !action;
    this.action = action?.run ?? null;
    this.root.hidden = false;
    clearTimeout(this.timer);
    if (brief) {
      this.timer = setTimeout(() => {
        if (this.text.textContent === message) this.hide();
      }, BRIEF_MS);
    }
  }

  hide() {
    this.root.hidden = true;
  }
}
