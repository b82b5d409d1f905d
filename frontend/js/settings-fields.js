// The settings pane's fields: one line each. Rendered with DOM calls, never markup strings.

import { element } from "./dom.js";

export const FIELDS = [
  // group, path in the profile, label, kind, input attributes, help
  ["context", "context.n_ctx", "Context length", "ctx", { min: 128, step: 256 },
    "Auto: the model's training length, limited by free memory and 8192."],
  ["context", "context.n_batch", "Batch size", "int", { min: 8 }, "Prompt tokens processed per step."],
  ["context", "context.n_ubatch", "Micro-batch", "optional-int", { min: 8, placeholder: "same as batch" }],
  ["context", "context.n_threads", "CPU threads (writing)", "optional-int", { min: 1 }],
  ["context", "context.n_threads_batch", "CPU threads (reading the prompt)", "optional-int", { min: 1 }],
  ["context", "context.n_gpu_layers", "GPU layers (-1: all)", "int", { min: -1, "data-gpu-only": "" }],
  ["context", "context.kv_cache_type", "KV cache type", "choice",
    { options: [["f16", "f16 (best quality)"], ["q8_0", "q8_0 (half the memory)"], ["q4_0", "q4_0 (a quarter)"]] }],
  ["context", "context.flash_attn", "Flash attention", "bool"],
  ["context", "context.use_mmap", "Memory-map the model file", "bool"],
  ["context", "context.use_mlock", "Lock the model in RAM", "bool"],
  ["sampling", "generation.temperature", "Temperature", "float", { min: 0, max: 2, step: 0.05 }],
  ["sampling", "generation.top_p", "Top-p", "float", { min: 0, max: 1, step: 0.01 }],
  ["sampling", "generation.top_k", "Top-k", "int", { min: 0 }],
  ["sampling", "generation.min_p", "Min-p", "float", { min: 0, max: 1, step: 0.01 }],
  ["sampling", "generation.repeat_penalty", "Repeat penalty", "float", { min: 0.5, max: 2, step: 0.05 }],
  ["sampling", "generation.seed", "Seed (-1: random)", "int", { min: -1 }],
  ["replies", "generation.max_tokens", "Longest reply (tokens)", "int", { min: 1 }],
  ["replies", "generation.system_prompt", "System prompt", "long-text", { rows: 3 }],
  ["replies", "generation.max_tool_rounds", "Tool calls per message (at most)", "int", { min: 1, max: 50 },
    "When the assistant works on files, it stops after this many tool calls."],
];

function buildInput(path, label, kind, attributes) {
  const { options = [], ...rest } = attributes;
  const common = { id: `field-${path}`, "data-field": path, "data-kind": kind, "data-testid": `field-${path}` };
  if (kind === "choice") {
    const select = element("select", { ...common, "data-kind": "text" });
    for (const [value, text] of options) select.append(element("option", { value, text }));
    return select;
  }
  if (kind === "long-text") return element("textarea", { ...common, "data-kind": "text", ...rest });
  if (kind === "bool") return element("input", { ...common, type: "checkbox", ...rest });
  const input = element("input", { ...common, type: "number", ...rest });
  if (kind === "ctx") input.setAttribute("aria-label", `${label} in tokens`);
  return input;
}

function buildField([, path, label, kind, attributes = {}, help = ""]) {
  const gpuOnly = "data-gpu-only" in attributes;
  const { "data-gpu-only": _flag, ...inputAttributes } = attributes;
  const field = element("div", { class: kind === "bool" ? "field check" : "field" });
  if (gpuOnly) field.dataset.gpuOnly = "";
  const input = buildInput(path, label, kind, inputAttributes);
  if (kind === "bool") {
    const wrapper = element("label");
    wrapper.append(input, ` ${label}`);
    field.append(wrapper);
  } else if (kind === "ctx") {
    const mode = element("select", { id: "field-n_ctx_mode", "data-testid": "field-n_ctx_mode" });
    mode.append(element("option", { value: "auto", text: "Auto" }), element("option", { value: "custom", text: "Custom" }));
    const row = element("div", { class: "inline" });
    row.append(mode, input);
    field.append(element("label", { for: "field-n_ctx_mode", text: label }), row);
  } else {
    field.append(element("label", { for: input.id, text: label }), input);
  }
  if (help) field.append(element("p", { class: "field-help", text: help }));
  field.append(element("p", { class: "field-error", role: "alert", "data-error-for": path, "data-testid": `error-${path}` }));
  return field;
}

export function renderFields(form) {
  for (const definition of FIELDS) {
    form.querySelector(`[data-field-group="${definition[0]}"] .field-grid`).append(buildField(definition));
  }
}
