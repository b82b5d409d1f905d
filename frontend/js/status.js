// The status line: which model is loaded (or being loaded), or which server's model is used,
// its state, the speed of the last reply, how much of the model's context the open
// conversation fills, Restart the model when the engine is stopped by an error, and "serving
// an API request" while the local API's requests run on the engine or wait for it.

const STATE_WORDS = { idle: "no model", loading: "loading…", ready: "ready", error: "error" };

// The tooltip: a local model's context and threads; a server's model, where it runs.
function describeModel(model) {
  if (!model) return "";
  const parts = [Number.isFinite(model.n_ctx) ? `context ${model.n_ctx} tokens` : null];
  if (model.remote) parts.push(`${model.server} at ${model.base_url}`);
  else if (Number.isFinite(model.n_threads)) parts.push(`${model.n_threads} threads`);
  return parts.filter(Boolean).join(" · ");
}

export class StatusLine {
  constructor(root, { onRestart }) {
    this.dot = root.querySelector('[data-testid="status-dot"]');
    this.model = root.querySelector('[data-testid="status-model"]');
    this.restart = root.querySelector('[data-testid="restart-model"]');
    this.restart.addEventListener("click", () => {
      this.restart.hidden = true; // the status says "loading…" next, then ready or the error
      onRestart();
    });
    this.speed = root.querySelector('[data-testid="status-speed"]');
    this.apiServing = root.querySelector('[data-testid="status-api"]');
    this.meter = root.querySelector('[data-testid="context-meter"]');
    this.meterText = root.querySelector('[data-testid="context-text"]');
    this.nCtx = null;
    this.used = null;
  }

  // `stats` are the last reply's: its prompt plus what it wrote is what the context held.
  showContext(stats) {
    this.showTokens(stats ? (stats.prompt_tokens ?? 0) + (stats.completion_tokens ?? 0) : null);
  }

  // null: nothing yet (a new chat); undefined: not known (no model loaded to count with).
  showTokens(tokens) {
    this.used = Number.isFinite(tokens) || tokens === undefined ? tokens : null;
    this.renderContext();
  }

  renderContext() {
    const used = this.used ?? 0;
    this.meter.max = this.nCtx ?? 1;
    this.meter.value = Math.min(used, this.meter.max);
    this.meter.classList.toggle("full", this.nCtx !== null && used > 0.9 * this.nCtx);
    const total = this.nCtx === null ? "?" : this.nCtx.toLocaleString("en");
    const shown = this.used === undefined ? "?" : used.toLocaleString("en");
    this.meterText.textContent = `context ${shown} / ${total} tokens`;
  }

  showModel(status) {
    this.dot.dataset.state = status.state;
    // While switching, the loaded model is still the old one: name the one being loaded.
    const switching = status.state === "loading" || status.state === "error";
    const wanted = status.wanted_label ?? status.wanted;
    const name = (switching && wanted) || status.model?.label || wanted || "SmolLM2 135M Instruct (bundled, offline)";
    this.restart.hidden = status.state !== "error";
    const detail = status.state === "error" ? status.error?.message : STATE_WORDS[status.state];
    this.model.textContent = `${name} — ${detail}`;
    this.model.title = describeModel(status.model);
    if (status.model?.n_ctx) {
      this.nCtx = status.model.n_ctx;
      this.renderContext();
    }
    if (status.last_stats) this.showSpeed(status.last_stats);
  }

  // The local API's `api_serving` event: {serving, waiting, model}.
  showApi({ serving, waiting, model }) {
    this.apiServing.hidden = !serving;
    this.apiServing.textContent = serving
      ? `serving an API request${waiting > 0 ? ` · ${waiting} more waiting` : ""}`
      : "";
    this.apiServing.title = serving && model ? `on ${model}` : "";
  }

  showSpeed(stats) {
    if (stats?.tokens_per_second) {
      this.speed.textContent = `last reply ${stats.tokens_per_second.toFixed(1)} tok/s`;
    }
  }
}
