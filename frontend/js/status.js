// The status line: which model is loaded, its state, and the speed of the last reply.

const STATE_WORDS = { idle: "no model", loading: "loading…", ready: "ready", error: "error" };

export class StatusLine {
  constructor(root) {
    this.dot = root.querySelector('[data-testid="status-dot"]');
    this.model = root.querySelector('[data-testid="status-model"]');
    this.speed = root.querySelector('[data-testid="status-speed"]');
  }

  showModel(status) {
    this.dot.dataset.state = status.state;
    const name = status.model?.label ?? status.wanted ?? "SmolLM2 135M Instruct (bundled, offline)";
    const detail = status.state === "error" ? status.error?.message : STATE_WORDS[status.state];
    this.model.textContent = `${name} — ${detail}`;
    this.model.title = status.model ? `context ${status.model.n_ctx} tokens · ${status.model.n_threads} threads` : "";
    if (status.last_stats) this.showSpeed(status.last_stats);
  }

  showSpeed(stats) {
    if (stats?.tokens_per_second) {
      this.speed.textContent = `last reply ${stats.tokens_per_second.toFixed(1)} tok/s`;
    }
  }
}
