// The settings pane's fields, drawn from the form the backend serves with the pane
// (settings_form() in settings.py): each field's label, help, bounds, group and input kind
// come from the settings models' schema, so a new field or group needs no code here.
// Rendered with DOM calls, never markup strings.

import { element } from "./dom.js";

// What the schema says → the input's attributes (an exclusive bound is still the input's bound).
function inputAttributes(field) {
  const attributes = {
    min: field.minimum ?? field.exclusiveMinimum,
    max: field.maximum ?? field.exclusiveMaximum,
    step: field.step,
    placeholder: field.placeholder,
  };
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined));
}

function buildInput(field) {
  const { path, kind } = field;
  const common = { id: `field-${path}`, "data-field": path, "data-kind": kind, "data-testid": `field-${path}` };
  if (kind === "choice") {
    const select = element("select", { ...common, "data-kind": "text" });
    for (const [value, text] of field.choices) select.append(element("option", { value, text }));
    return select;
  }
  if (kind === "long-text") return element("textarea", { ...common, "data-kind": "text", rows: field.rows });
  if (kind === "bool") return element("input", { ...common, type: "checkbox" });
  const input = element("input", { ...common, type: "number", ...inputAttributes(field) });
  if (kind === "ctx") input.setAttribute("aria-label", `${field.title} in tokens`);
  return input;
}

function buildField(field) {
  const { path, title, kind, help } = field;
  const node = element("div", { class: kind === "bool" ? "field check" : "field" });
  if (field.gpu_only) node.dataset.gpuOnly = "";
  const input = buildInput(field);
  if (kind === "bool") {
    const wrapper = element("label");
    wrapper.append(input, ` ${title}`);
    node.append(wrapper);
  } else if (kind === "ctx") {
    // The context length: Auto, or a number of tokens.
    const mode = element("select", { id: "field-n_ctx_mode", "data-testid": "field-n_ctx_mode" });
    mode.append(element("option", { value: "auto", text: "Auto" }), element("option", { value: "custom", text: "Custom" }));
    const row = element("div", { class: "inline" });
    row.append(mode, input);
    node.append(element("label", { for: "field-n_ctx_mode", text: title }), row);
  } else {
    node.append(element("label", { for: input.id, text: title }), input);
  }
  if (help) node.append(element("p", { class: "field-help", text: help }));
  node.append(element("p", { class: "field-error", role: "alert", "data-error-for": path, "data-testid": `error-${path}` }));
  return { node, input };
}

// A group's grid: its fieldset in the page (which may hold more, such as the plan), or a new
// one at the end of the pane; its legend is the group's title.
function groupGrid(form, { name, title }) {
  let fieldset = form.querySelector(`[data-field-group="${CSS.escape(name)}"]`);
  if (!fieldset) {
    fieldset = element("fieldset", { "data-field-group": name });
    fieldset.append(element("div", { class: "field-grid" }));
    form.querySelector(".settings-body").append(fieldset);
  }
  fieldset.prepend(element("legend", { text: title }));
  return fieldset.querySelector(".field-grid");
}

// Renders every group's fields into `form`; returns each field with its input.
export function renderFields(form, groups) {
  const rendered = [];
  for (const group of groups) {
    const grid = groupGrid(form, group);
    for (const field of group.fields) {
      const { node, input } = buildField(field);
      grid.append(node);
      rendered.push({ field, input });
    }
  }
  return rendered;
}
