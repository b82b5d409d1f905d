// How news and problems reach the user. The banner above the chat: each kind looks different,
// so good news is never mistaken for a problem: success (green), info (neutral), warning
// (amber) and error (red). Problems are announced at once (role="alert"), news politely
// (role="status"). And guarded(): the one path from an action that failed to where its
// problem is shown (the banner, or a dialog's own message line).

const BRIEF_MS = 4000;
const KINDS = new Set(["success", "info", "warning", "error"]);

// A runner for actions: `run(action)` runs `action` (sync or async) and hands any error it
// throws to `report`; it resolves to the action's result, or undefined after a failure.
export function guarded(report) {
  return async (action) => {
    try {
      return await action();
    } catch (error) {
      report(error);
      return undefined;
    }
  };
}

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
    // Runs an action; a problem it throws is shown in the banner.
    this.guard = guarded((error) => this.error(error.message));
  }

  // A problem; `action` is an optional {label, run}.
  error(message, action = null) {
    this.show(message, { kind: "error", action });
  }

  warn(message) {
    this.show(message, { kind: "warning" });
  }

  info(message, action = null) {
    this.show(message, { kind: "info", action });
  }

  // Good news that goes away by itself.
  brief(message) {
    this.show(message, { kind: "success", brief: true });
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
      this.timer = setTimeout(() => this.hideIf(message), BRIEF_MS);
    }
  }

  hide() {
    this.root.hidden = true;
  }

  // Hides the banner if it still says `message`, news that is no longer true.
  hideIf(message) {
    if (this.text.textContent === message) this.hide();
  }
}
