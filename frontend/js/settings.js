// The settings pane: context and generation settings per model, presets, live validation.

import { byTestId as $, element, showMessage } from "./dom.js";
import { guarded } from "./notice.js";
import { renderFields } from "./settings-fields.js";

export function formatBytes(bytes) {
  if (bytes == null) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value >= 10 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function getPath(object, path) {
  return path.split(".").reduce((node, key) => node?.[key], object);
}

function setPath(object, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  const parent = keys.reduce((node, key) => (node[key] ??= {}), object);
  parent[last] = value;
}

function readInput(input) {
  const raw = input.value.trim();
  switch (input.dataset.kind) {
    case "bool":
      return input.checked;
    case "text":
      return input.value;
    case "optional-int":
      return raw === "" ? null : Number(raw);
    default: // int, float: an empty or bad number goes to the backend, which names the problem
      return raw === "" ? null : Number(raw);
  }
}

export class SettingsPane {
  constructor(api, { onSaved }) {
    this.api = api;
    this.onSaved = onSaved;
    this.dialog = document.querySelector('[data-testid="settings-pane"]');
    this.form = $(this.dialog, "settings-form");
    this.fields = null; // drawn on first open, from the form the backend serves
    this.data = null;
    this.previewTimer = null;
    // Problems go to the pane's message line or to the presets' one; what a save refuses for
    // its fields goes next to each field.
    const toMessage = (error) => this.message(error.message);
    const toPresetMessage = (error) => this.presetMessage(error.message, true);
    const fieldsOr = (report) => (error) => {
      if (error.details?.fields) this.showPreview({ errors: error.details.fields, plan: null });
      else report(error);
    };
    this.guard = guarded(toMessage);
    this.saveGuard = guarded(fieldsOr(toMessage));
    this.presetGuard = guarded(toPresetMessage);
    this.savePresetGuard = guarded(fieldsOr(toPresetMessage));
    this.bind();
  }

  bind() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    this.form.addEventListener("input", () => this.schedulePreview());
    this.form.addEventListener("change", () => this.schedulePreview());
    $(this.dialog, "settings-cancel").addEventListener("click", () => this.dialog.close());
    $(this.dialog, "settings-reset").addEventListener("click", () => {
      this.fill(this.data.factory_defaults);
      this.schedulePreview();
    });
    $(this.dialog, "preset-apply").addEventListener("click", () => this.applyPreset());
    $(this.dialog, "preset-save").addEventListener("click", () => this.savePreset());
    $(this.dialog, "preset-delete").addEventListener("click", () => this.deletePreset());
  }

  renderFields(groups) {
    this.fields = renderFields(this.form, groups);
    this.ctxMode = $(this.dialog, "field-n_ctx_mode");
    this.ctxInput = this.form.querySelector('[data-kind="ctx"]');
    this.ctxMode.addEventListener("change", () => {
      this.ctxInput.disabled = this.ctxMode.value === "auto";
      if (!this.ctxInput.disabled) this.ctxInput.focus();
    });
  }

  async open() {
    this.data = await this.api.call("settings_pane");
    if (!this.fields) this.renderFields(this.data.form);
    const { model, scope, profile, overflow, machine } = this.data;
    $(this.dialog, "settings-model").textContent = `Model: ${model.label}`;
    $(this.dialog, "scope-model-label").textContent = `Only ${model.name}`;
    this.form.querySelector(`input[name="scope"][value="${scope}"]`).checked = true;
    this.form.querySelector(`input[name="overflow"][value="${overflow}"]`).checked = true;
    for (const field of this.dialog.querySelectorAll("[data-gpu-only]")) field.hidden = !machine.gpu_offload;
    for (const { field, input } of this.fields) {
      if (!field.cores) continue;
      input.placeholder = `auto (${machine.physical_cores} cores)`;
      input.max = String(machine.logical_cores);
    }
    this.fill(profile);
    this.renderPresets();
    this.showPreview(this.data.preview);
    this.message("");
    this.presetMessage("");
    this.dialog.showModal();
    this.ctxMode.focus();
  }

  close() {
    this.dialog.close();
  }

  fill(profile) {
    for (const input of this.form.querySelectorAll("[data-field]")) {
      const value = getPath(profile, input.dataset.field);
      if (input.dataset.kind === "bool") input.checked = Boolean(value);
      else if (input.dataset.kind === "ctx") {
        const auto = value === "auto";
        this.ctxMode.value = auto ? "auto" : "custom";
        input.disabled = auto;
        input.value = auto ? (this.data.preview.plan?.n_ctx ?? "") : value;
      } else input.value = value ?? "";
    }
  }

  read() {
    const profile = {};
    for (const input of this.form.querySelectorAll("[data-field]")) {
      const value = input.dataset.kind === "ctx"
        ? (this.ctxMode.value === "auto" ? "auto" : readInput(input))
        : readInput(input);
      setPath(profile, input.dataset.field, value);
    }
    return profile;
  }

  scope() {
    return this.form.querySelector('input[name="scope"]:checked').value;
  }

  overflow() {
    return this.form.querySelector('input[name="overflow"]:checked').value;
  }

  schedulePreview() {
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => this.preview(), 250);
  }

  preview() {
    return this.guard(async () => {
      const result = await this.api.call("preview_profile", { model_id: this.data.model.id, profile: this.read() });
      this.showPreview(result);
    });
  }

  showPreview({ errors, plan }) {
    for (const slot of this.form.querySelectorAll("[data-error-for]")) {
      const problem = errors[slot.dataset.errorFor] ?? "";
      slot.textContent = problem;
      const input = this.form.querySelector(`[data-field="${slot.dataset.errorFor}"]`);
      if (input) input.setAttribute("aria-invalid", problem ? "true" : "false");
    }
    const unplaced = Object.entries(errors).filter(([field]) => !this.form.querySelector(`[data-error-for="${field}"]`));
    // Only the problems it showed itself are cleared here, not news such as "Preset saved".
    if (unplaced.length || this.showingProblems) {
      this.message(unplaced.map(([field, problem]) => `${field}: ${problem}`).join(" · "));
    }
    this.showingProblems = unplaced.length > 0;
    $(this.dialog, "settings-save").disabled = Object.keys(errors).length > 0;
    const planText = $(this.dialog, "settings-plan");
    planText.textContent = plan
      ? `Context ${plan.n_ctx.toLocaleString()} tokens (model trained on ${plan.training_context?.toLocaleString() ?? "?"}) · ` +
        `KV cache ${formatBytes(plan.kv_bytes)} · weights ${formatBytes(plan.weights_bytes)} · ` +
        `${formatBytes(plan.memory_available)} free · ${plan.n_threads} threads`
      : "";
  }

  save() {
    return this.saveGuard(async () => {
      const saved = await this.api.call("save_profile", {
        model_id: this.data.model.id,
        scope: this.scope(),
        profile: this.read(),
        overflow: this.overflow(),
      });
      this.dialog.close();
      this.onSaved(saved);
    });
  }

  renderPresets() {
    const select = $(this.dialog, "preset-select");
    const names = Object.keys(this.data.presets);
    select.replaceChildren(
      ...(names.length ? names : ["No presets yet"]).map((name) => element("option", {
        value: names.length ? name : "", text: name,
      })),
    );
    $(this.dialog, "preset-apply").disabled = !names.length;
    $(this.dialog, "preset-delete").disabled = !names.length;
  }

  applyPreset() {
    const preset = this.data.presets[$(this.dialog, "preset-select").value];
    if (!preset) return;
    this.fill(preset);
    this.schedulePreview();
    this.presetMessage(`Preset “${$(this.dialog, "preset-select").value}” applied: press Save to use it.`);
  }

  async savePreset() {
    const name = $(this.dialog, "preset-name").value.trim();
    if (!name) {
      this.presetMessage("Give the preset a name first.", true);
      return;
    }
    await this.savePresetGuard(async () => {
      await this.api.call("save_preset", { name, profile: this.read() });
      this.data = { ...this.data, presets: { ...this.data.presets, [name]: this.read() } };
      this.renderPresets();
      $(this.dialog, "preset-select").value = name;
      $(this.dialog, "preset-name").value = "";
      this.presetMessage(`Preset “${name}” saved.`);
    });
  }

  async deletePreset() {
    const name = $(this.dialog, "preset-select").value;
    if (!name) return;
    await this.presetGuard(async () => {
      await this.api.call("delete_preset", { name });
      const { [name]: _removed, ...rest } = this.data.presets;
      this.data = { ...this.data, presets: rest };
      this.renderPresets();
      this.presetMessage(`Preset “${name}” deleted.`);
    });
  }

  message(text, error = true) {
    showMessage($(this.dialog, "settings-message"), text, error);
  }

  presetMessage(text, error = false) {
    showMessage($(this.dialog, "preset-message"), text, error);
  }
}
