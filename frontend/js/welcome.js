// The first-launch welcome: what the bundled model is, and the two things worth doing first.
// It lives inside the empty chat, so it never blocks the app, and any choice dismisses it.

export class FirstRun {
  constructor(panel, api, { onModels, onFolders, onError }) {
    this.panel = panel;
    this.api = api;
    const choose = (action) => () => {
      this.hide();
      action?.();
      api.call("dismiss_welcome").catch(onError);
    };
    panel.querySelector('[data-testid="welcome-models"]').addEventListener("click", choose(onModels));
    panel.querySelector('[data-testid="welcome-folders"]').addEventListener("click", choose(onFolders));
    panel.querySelector('[data-testid="welcome-skip"]').addEventListener("click", choose(null));
  }

  show(modelName) {
    this.panel.querySelector('[data-testid="welcome-model-name"]').textContent = modelName;
    this.panel.hidden = false;
  }

  hide() {
    this.panel.hidden = true;
  }
}
