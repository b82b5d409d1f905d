// The status line: which model is loaded, its state, the speed of the last reply, and how
// much of the model's context the open conversation fills.

const STATE_WORDS = { idle: "no model", loading: "loading…", ready: "ready", error: "error" };

export class StatusLine {
  constructor(root) {
    this.dot = root.querySelector('[data-testid="status-dot"]');
    this.model = root.querySelector('[data-testid="status-model"]');
    this.speed = root.querySelector('[data-testid="status-speed"]');
    this.meter = root.querySelector('[data-testid="context-meter"]');
    this.meterText = root.querySelector('[data-testid="context-text"]');
    this.nCtx = null;
    this.used = null;
  }

  // `stats` are the last reply's: its prompt plus what it wrote is what the context held.
  showContext(stats) {
    this.used = stats ? (stats.prompt_tokens ?? 0) + (stats.completion_tokens ?? 0) : null;
    this.renderContext();
  }

  renderContext() {
    const used = this.used ?? 0;
    this.meter.max = this.nCtx ?? 1;
    this.meter.value = Math.min(used, this.meter.max);
    this.meter.classList.toggle("full", this.nCtx !== null && used > 0.9 * this.nCtx);
    const total = this.nCtx === null ? "?" : this.nCtx.toLocaleString("en");
    this.meterText.textContent = `context ${used.toLocaleString("en")} / ${total} tokens`;
  }

  showModel(status) {
    this.dot.dataset.state = status.state;
    const name = status.model?.label ?? status.wanted ?? "SmolLM2 135M Instruct (bundled, offline)";
    const detail = status.state === "error" ? status.error?.message : STATE_WORDS[status.state];
    this.model.textContent = `${name} — ${detail}`;
    this.model.title = status.model ? `context ${status.model.n_ctx} tokens · ${status.model.n_threads} threads` : "";
    if (status.model?.n_ctx) {
      this.nCtx = status.model.n_ctx;
      this.renderContext();
    }
    if (status.last_stats) this.showSpeed(status.last_stats);
  }

  showSpeed(stats) {
    if (stats?.tokens_per_second) {
      this.speed.textContent = `last reply ${stats.tokens_per_second.toFixed(1)} tok/s`;
    }
  }
}
