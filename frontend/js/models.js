// The Models pane: installed models with fit badges, downloads with progress, the catalog,
// any repo's GGUF files, importing a local file, and the Hub token; its Servers tab is
// servers.js.

import { confirmDialog } from "./dialog.js";
import { byTestId as $, element, showMessage } from "./dom.js";
import { guarded } from "./notice.js";
import { ServersPanel } from "./servers.js";
import { formatBytes } from "./settings.js";

function button(label, accessibleName, onClick, kind = "secondary") {
  const node = element("button", { class: kind, text: label });
  node.type = "button";
  node.setAttribute("aria-label", accessibleName);
  node.addEventListener("click", onClick);
  return node;
}

function fitBadge(item) {
  const badge = element("span", { class: `badge ${item.fit}`, text: item.fit_label });
  badge.dataset.testid = "fit-badge";
  badge.dataset.fit = item.fit;
  badge.title = "Weights plus the KV cache at the chosen context, against the memory free now";
  return badge;
}

function duration(seconds) {
  if (seconds == null) return "";
  if (seconds < 60) return `${seconds} s left`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s left`;
}

const STATE_LABELS = {
  queued: "Queued", downloading: "Downloading", paused: "Paused", done: "Done",
  failed: "Failed", cancelled: "Cancelled",
};

export class ModelsPane {
  constructor(api, { desktop }) {
    this.api = api;
    this.dialog = document.querySelector('[data-testid="models-pane"]');
    this.guard = guarded((error) => this.message(error.message, true));
    this.downloads = new Map(); // job id → latest job
    this.overview = null;
    this.loading = null; // the model id we asked to load, until it is ready
    this.choices = { catalog: [], repo: [] }; // what the two lists show, re-marked on changes
    $(this.dialog, "import-browse").hidden = !desktop;
    this.servers = new ServersPanel(api, $(this.dialog, "servers-panel"), {
      guard: this.guard,
      message: (text, error = false) => this.message(text, error),
      onSelected: () => this.refresh(),
    });
    this.tab = "models";
    this.bind();
  }

  bind() {
    const on = (testId, event, handler) => $(this.dialog, testId).addEventListener(event, (e) => {
      e.preventDefault();
      this.guard(handler);
    });
    on("repo-form", "submit", () => this.showRepo());
    on("import-form", "submit", () => this.importFile());
    on("import-browse", "click", () => this.browse());
    on("token-form", "submit", () => this.saveToken($(this.dialog, "hub-token").value));
    on("token-forget", "click", () => this.saveToken(null));
    $(this.dialog, "models-close").addEventListener("click", () => this.dialog.close());
    for (const tab of ["models", "servers"]) {
      $(this.dialog, `${tab}-tab`).addEventListener("click", () => this.guard(() => this.showTab(tab)));
    }
    $(this.dialog, "models-tab").parentElement.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      const other = this.tab === "models" ? "servers" : "models";
      this.guard(() => this.showTab(other));
      $(this.dialog, `${other}-tab`).focus();
    });
  }

  async open() {
    this.message("");
    await this.refresh();
    this.dialog.showModal();
    this.loadCatalog();
    if (this.tab === "servers") this.guard(() => this.servers.open());
  }

  // "models": the models on this computer; "servers": the servers' (asked when shown).
  async showTab(tab) {
    this.tab = tab;
    for (const [name, panel] of [["models", "models-local"], ["servers", "servers-panel"]]) {
      const button = $(this.dialog, `${name}-tab`);
      button.setAttribute("aria-selected", String(name === tab));
      button.tabIndex = name === tab ? 0 : -1;
      $(this.dialog, panel).hidden = name !== tab;
    }
    $(this.dialog, "models-body").scrollTop = 0;
    this.message("");
    if (tab === "servers") await this.servers.open();
  }

  async refresh() {
    this.overview = await this.api.call("models_overview");
    for (const job of this.overview.downloads) this.downloads.set(job.id, job);
    this.renderInstalled();
    this.renderDownloads();
    this.renderLists();
  }

  renderLists() {
    const installed = new Set(this.overview.models.map((model) => model.id));
    const mark = (entries) => entries.map((entry) => ({ ...entry, installed: installed.has(entry.model_id) }));
    this.renderChoices($(this.dialog, "catalog-list"), mark(this.choices.catalog), { titled: true });
    this.renderChoices($(this.dialog, "repo-files"), mark(this.choices.repo), { titled: false });
  }

  get isOpen() {
    return this.dialog.open;
  }

  // --- events from the backend ------------------------------------------------------------
  onDownload(job) {
    this.downloads.set(job.id, job);
    if (this.dialog.open) this.renderDownloads();
    if (!this.dialog.open) return;
    if (job.state === "failed") this.message(job.error.message, true);
    if (job.state === "done") this.message(`${job.file} is downloaded and verified: choose Use to load it.`);
  }

  onModelsChanged() {
    if (this.dialog.open) this.guard(() => this.refresh());
  }

  onModelStatus(status) {
    if (!this.loading || !this.dialog.open) return;
    const name = this.loading;
    if (status.state === "loading") this.message(`Loading ${name}…`);
    else if (status.state === "ready") {
      this.message(`${name} is ready.`);
      this.loading = null;
    } else if (status.state === "error") {
      this.message(status.error.message, true);
      this.loading = null;
    }
  }

  // --- rendering ----------------------------------------------------------------------------
  renderInstalled() {
    const data = this.overview;
    const bundled = data.bundled_bytes ? ` (${formatBytes(data.bundled_bytes)} of it the bundled model, part of the app)` : "";
    $(this.dialog, "models-summary").textContent =
      `Models use ${formatBytes(data.disk_used + data.bundled_bytes)} of disk${bundled}; ` +
      `${formatBytes(data.disk_free)} free. Free memory: ${formatBytes(data.memory_available)}.`;
    $(this.dialog, "token-state").textContent = {
      settings: "A token is saved in this computer's settings.",
      env: "Using the token in HF_TOKEN.",
    }[data.token] ?? "No token: public models only. Gated ones (e.g. Llama) need one.";
    const list = $(this.dialog, "installed-list");
    list.replaceChildren();
    for (const model of data.models) {
      const item = element("li", { class: "model" });
      item.dataset.testid = "installed-model";
      item.append(element("span", { class: "model-name", text: model.label }), fitBadge(model));
      if (model.id === data.selected) {
        const badge = element("span", { class: "badge selected", text: "In use" });
        badge.dataset.testid = "selected-badge";
        item.append(badge);
      } else {
        item.append(button("Use", `Use ${model.name}`, () => this.select(model)));
      }
      if (model.source !== "bundled") {
        item.append(button("Delete", `Delete ${model.name}`, () => this.remove(model), "secondary danger"));
      }
      item.append(element("p", { class: "model-facts", text: this.facts(model) }));
      if (model.prompt_formats) item.append(this.formatPicker(model));
      if (model.error) item.append(element("p", { class: "model-error", text: model.error }));
      list.append(item);
    }
  }

  // How the model is prompted; a model without a template of its own is most likely a base
  // model, and a wrong format makes it write turn markers as text.
  formatPicker(model) {
    const row = element("p", { class: "model-format" });
    if (!model.chat_template) {
      const note = element("span", { class: "model-note", text: "No chat template — base model? " });
      note.dataset.testid = "no-template-note";
      note.title = "This GGUF has no tokenizer.chat_template. A base model continues text " +
        "(plain completion); for a chat model, pick the format it was trained with.";
      row.append(note);
    }
    const label = element("label", { text: "Prompt format " });
    const picker = element("select");
    picker.dataset.testid = "prompt-format";
    picker.setAttribute("aria-label", `Prompt format for ${model.name}`);
    for (const choice of model.prompt_formats) {
      const suffix = choice.name === model.default_prompt_format ? " (default)" : "";
      const option = element("option", { text: choice.label + suffix });
      option.value = choice.name;
      picker.append(option);
    }
    picker.value = model.prompt_format;
    picker.addEventListener("change", () => this.guard(() => this.setFormat(model, picker.value)));
    label.append(picker);
    row.append(label);
    return row;
  }

  async setFormat(model, format) {
    this.overview = await this.api.call("set_prompt_format", { model_id: model.id, prompt_format: format });
    this.renderInstalled();
    const chosen = model.prompt_formats.find((choice) => choice.name === format);
    this.message(`${model.name} is now prompted with ${chosen.label}.`);
  }

  facts(model) {
    const parts = [
      model.architecture,
      model.parameters && `${model.parameters} parameters`,
      model.quantization,
      model.training_context && `trained for ${model.training_context.toLocaleString("en-US")} tokens`,
      model.supports_tools === undefined ? null : (model.supports_tools ? "tool calls: yes" : "tool calls: no"),
      model.linked ? "linked, uses no space here" : `${formatBytes(model.size_bytes)} on disk`,
      model.parts > 1 ? `${model.parts} parts` : null,
      model.kv_bytes != null && `KV cache ${formatBytes(model.kv_bytes)} at ${model.n_ctx.toLocaleString("en-US")} tokens`,
    ];
    return parts.filter(Boolean).join(" · ");
  }

  renderDownloads() {
    const jobs = [...this.downloads.values()];
    $(this.dialog, "downloads-section").hidden = jobs.length === 0;
    const list = $(this.dialog, "download-list");
    list.replaceChildren();
    for (const job of jobs) {
      const item = element("li", { class: "model" });
      item.dataset.testid = "download-item";
      item.dataset.state = job.state;
      item.append(element("span", { class: "model-name", text: `${job.repo_id} / ${job.file}` }));
      const state = element("span", { class: "badge", text: STATE_LABELS[job.state] });
      state.dataset.testid = "download-state";
      item.append(state);
      if (["queued", "downloading"].includes(job.state)) {
        item.append(button("Pause", `Pause ${job.file}`, () => this.jobAction("pause_download", job)));
      }
      if (["paused", "failed"].includes(job.state)) {
        item.append(button("Resume", `Resume ${job.file}`, () => this.jobAction("resume_download", job)));
      }
      if (!["done", "cancelled"].includes(job.state)) {
        item.append(button("Cancel", `Cancel ${job.file}`, () => this.jobAction("cancel_download", job)));
      }
      const bar = element("progress");
      bar.max = job.total_bytes || 1;
      bar.value = job.done_bytes;
      bar.setAttribute("aria-label", `Progress of ${job.file}`);
      const speed = job.state === "downloading" && job.speed ? ` · ${formatBytes(job.speed)}/s · ${duration(job.eta_seconds)}` : "";
      const text = element("p", {
        class: "model-facts", text: `${formatBytes(job.done_bytes)} of ${formatBytes(job.total_bytes)}${speed}`,
      });
      text.dataset.testid = "download-progress";
      item.append(bar, text);
      if (job.error) item.append(element("p", { class: "model-error", text: job.error.message }));
      list.append(item);
    }
  }

  renderChoices(list, items, { titled }) {
    list.replaceChildren();
    for (const entry of items) {
      const item = element("li", { class: "model" });
      item.dataset.testid = titled ? "catalog-entry" : "repo-file";
      const title = titled ? `${entry.title}${entry.recommended ? " (recommended)" : ""}` : entry.file;
      item.append(element("span", { class: "model-name", text: title }));
      if (entry.size_bytes != null) {
        item.append(fitBadge(entry));
        if (entry.installed) item.append(element("span", { class: "badge", text: "Installed" }));
        else item.append(button("Download", `Download ${titled ? entry.title : entry.file}`, () => this.download(entry)));
        const facts = [entry.quantization, formatBytes(entry.size_bytes), entry.parts > 1 && `${entry.parts} parts`, titled && entry.note];
        item.append(element("p", { class: "model-facts", text: facts.filter(Boolean).join(" · ") }));
      } else {
        item.append(element("p", { class: "model-facts", text: entry.note ?? "" }));
      }
      if (entry.error) item.append(element("p", { class: "model-facts", text: entry.error }));
      list.append(item);
    }
  }

  // --- actions ------------------------------------------------------------------------------
  async loadCatalog() {
    const line = $(this.dialog, "catalog-message");
    line.textContent = "Asking the Hub for sizes…";
    await guarded((error) => { line.textContent = error.message; })(async () => {
      const catalog = await this.api.call("models_catalog");
      line.textContent = catalog.online ? "" : catalog.message;
      this.choices.catalog = catalog.entries;
      this.renderLists();
    });
  }

  async showRepo() {
    const repoId = $(this.dialog, "repo-id").value.trim();
    if (!repoId) return this.message("Type a repo id first, as owner/name.", true);
    this.choices.repo = [];
    this.renderLists();
    this.message(`Listing ${repoId}…`);
    const files = await this.api.call("repo_files", { repo_id: repoId });
    this.choices.repo = files;
    this.renderLists();
    this.message(files.length ? `${files.length} GGUF models in ${repoId}.` : `${repoId} has no GGUF files.`, !files.length);
  }

  async download(entry) {
    const job = await this.api.call("start_download", { repo_id: entry.repo_id, file: entry.file });
    this.onDownload(job);
    this.message(`Downloading ${entry.file}.`);
  }

  async jobAction(method, job) {
    this.onDownload(await this.api.call(method, { job_id: job.id }));
  }

  async select(model, confirmed = false) {
    const result = await this.api.call("select_model", { model_id: model.id, confirmed });
    if (result.needs_confirmation) {
      const ok = await confirmDialog({ title: "This model may not fit", text: result.message, confirmLabel: "Load anyway", danger: true });
      if (ok) await this.select(model, true);
      return;
    }
    this.loading = model.name;
    this.message(`Loading ${model.name}…`);
    await this.refresh();
    await this.servers.refresh(); // a server's model is no longer the one in use
  }

  async remove(model) {
    const freed = model.linked ? "The original file stays where it is." : `This frees ${formatBytes(model.size_bytes)}.`;
    const ok = await confirmDialog({ title: `Delete ${model.name}?`, text: freed, confirmLabel: "Delete", danger: true });
    if (!ok) return;
    const result = await this.api.call("remove_model", { model_id: model.id });
    this.overview = result;
    this.renderInstalled();
    this.renderLists();
    this.message(`Deleted ${model.name}; freed ${formatBytes(result.freed)}.`);
  }

  async browse() {
    const { path } = await this.api.call("choose_model_file");
    if (path) $(this.dialog, "import-path").value = path;
  }

  async importFile() {
    const path = $(this.dialog, "import-path").value.trim();
    if (!path) return this.message("Type or choose a .gguf file first.", true);
    const mode = $(this.dialog, "import-mode").value;
    const result = await this.api.call("import_model", { path, mode });
    this.overview = result;
    this.renderInstalled();
    this.renderLists();
    $(this.dialog, "import-path").value = "";
    this.message(`Imported ${result.model_id}.`);
  }

  async saveToken(token) {
    await this.api.call("set_hub_token", { token });
    $(this.dialog, "hub-token").value = "";
    await this.refresh();
    this.message(token ? "Token saved on this computer." : "Token forgotten.");
  }

  message(text, error = false) {
    showMessage($(this.dialog, "models-message"), text, error);
  }
}
