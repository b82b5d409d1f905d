// The first-launch welcome: what the bundled model is, and the two things worth doing first.
// It lives inside the empty chat, so it never blocks the app. It is shown at most until the
// user moves on (a choice, or a first message), and never again once it has done its job:
// Skip, a granted folder's dialog, or a download that really started. "Get the recommended
// model" alone does not count, as the Hub may be out of reach (offline nothing is fetched).

export class FirstRun {
  // `guard(action)` runs an action and shows what went wrong, if anything.
  constructor(panel, api, { onModels, onFolders, guard }) {
    this.panel = panel;
    this.api = api;
    this.guard = guard;
    this.pending = false; // shown, and not yet dismissed for good
    const choose = (action, forGood) => () => {
      this.hide();
      action?.();
      if (forGood) this.dismiss();
    };
    panel.querySelector('[data-testid="welcome-models"]').addEventListener("click", choose(onModels, false));
    panel.querySelector('[data-testid="welcome-folders"]').addEventListener("click", choose(onFolders, true));
    panel.querySelector('[data-testid="welcome-skip"]').addEventListener("click", choose(null, true));
  }

  show(modelName) {
    this.panel.querySelector('[data-testid="welcome-model-name"]').textContent = modelName;
    this.panel.hidden = false;
    this.pending = true;
  }

  // Gone for this session: a new chat does not bring it back.
  hide() {
    if (!this.panel.hidden) this.panel.hidden = true;
  }

  // Gone for good (saved): called for Skip, Grant a folder, and when a download starts.
  dismiss() {
    this.hide();
    if (!this.pending) return;
    this.pending = false;
    this.guard(() => this.api.call("dismiss_welcome"));
  }
}
