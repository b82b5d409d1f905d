// The Models pane's Servers tab: the OpenAI-compatible servers the user added, each with its
// state and its models (context length, how it takes tools and the test of it, thinking
// first, Use), and the form that adds one. A key goes to the bridge once and is never shown
// again: the page only learns whether one is saved.

import { confirmDialog } from "./dialog.js";
import { byTestId as $, element } from "./dom.js";

function button(label, accessibleName, testId, onClick, kind = "secondary") {
  const node = element("button", { class: kind, type: "button", "aria-label": accessibleName, "data-testid": testId, text: label });
  node.addEventListener("click", onClick);
  return node;
}

// What the last check of a server found, in words.
function stateText(state) {
  if (!state) return "";
  if (state.state === "checking") return "Checking…";
  if (state.state === "failed") return `Not answering: ${state.reason}`;
  if (!state.listed) return "Ready (it does not list its models: type a model's id)";
  const count = state.models.length;
  return `Ready with ${count} model${count === 1 ? "" : "s"}`;
}

export class ServersPanel {
  // `guard` runs an action and shows its problem in the pane; `message(text, error)` is the
  // pane's status line; `onSelected()` follows a change of the model in use.
  constructor(api, root, { guard, message, onSelected }) {
    this.api = api;
    this.root = root;
    this.guard = guard;
    this.message = message;
    this.onSelected = onSelected;
    this.overview = null;
    this.states = new Map(); // server name → its probe: {state, models, listed} or {state, reason}
    this.choices = new Map(); // server name → server_models' answer, for its model picker
    this.details = new Map(); // "server/model" → what the last tool test found
    $(root, "add-server-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.guard(() => this.add());
    });
  }

  // The list as saved; each server is asked at once whether it answers (in the background).
  async open() {
    this.overview = await this.api.call("list_servers");
    this.renderPresets();
    this.render();
    for (const server of this.overview.servers) this.guard(() => this.check(server.name, { quiet: true }));
  }

  // After a local model was chosen: the "In use" marks follow.
  async refresh() {
    if (!this.overview) return;
    this.overview = await this.api.call("list_servers");
    this.render();
  }

  renderPresets() {
    const row = $(this.root, "server-presets");
    row.replaceChildren(element("span", { class: "field-help", text: "Start from:" }));
    for (const preset of this.overview.presets) {
      row.append(button(preset.name, `Fill in the address of ${preset.name}`, "server-preset", () => this.usePreset(preset)));
    }
  }

  usePreset(preset) {
    const name = $(this.root, "add-server-name");
    $(this.root, "add-server-url").value = preset.base_url;
    if (!name.value.trim()) name.value = preset.name.toLowerCase().replace(/[^a-z0-9]+/g, "-");
    $(this.root, "server-preset-note").textContent =
      `${preset.name}: ${preset.note}. Its usual address on this computer is filled in; for another machine, change 127.0.0.1 to its address.`;
  }

  // --- rendering ----------------------------------------------------------------------------
  render() {
    const list = $(this.root, "server-list");
    list.replaceChildren();
    $(this.root, "servers-empty").hidden = this.overview.servers.length > 0;
    for (const server of this.overview.servers) list.append(this.serverItem(server));
  }

  serverItem(server) {
    const item = element("li", { class: "server", "data-testid": "server-item", "data-name": server.name });
    const head = element("div", { class: "server-head" });
    head.append(element("span", { class: "model-name", text: server.name }));
    head.append(element("span", { class: "server-url", "data-testid": "server-url", text: server.base_url }));
    if (server.has_key) {
      head.append(element("span", { class: "badge", "data-testid": "server-key-badge", text: "key saved", title: "An API key is saved on this computer for this server" }));
    }
    head.append(
      button("Check", `Check whether ${server.name} answers`, "server-check", () => this.guard(() => this.check(server.name))),
      button("Remove", `Remove ${server.name}`, "server-remove", () => this.guard(() => this.remove(server)), "secondary danger"),
    );
    item.append(head);
    if (server.unencrypted) {
      item.append(element("p", {
        class: "server-warning", "data-testid": "server-unencrypted", role: "note",
        text: "Traffic to this server is not encrypted (http to another machine): anyone on the network between can read your messages, the replies and the key. Use https, or a server on this computer.",
      }));
    }
    const state = this.states.get(server.name);
    const line = element("p", { class: "server-state", "data-testid": "server-state", text: stateText(state) });
    if (state) line.dataset.state = state.state;
    item.append(line);
    const models = element("ul", { class: "server-models", role: "list", "aria-label": `Models on ${server.name}` });
    for (const model of server.models) models.append(this.modelItem(server, model));
    item.append(models, this.modelAdder(server));
    return item;
  }

  modelItem(server, model) {
    const key = `${server.name}/${model.id}`;
    const item = element("li", { class: "server-model", "data-testid": "server-model", "data-model": model.id });
    item.append(element("span", { class: "model-name", text: model.id }));
    if (this.overview.selected === key) {
      item.append(element("span", { class: "badge selected", "data-testid": "server-model-selected", text: "In use" }));
    } else {
      item.append(button("Use", `Use ${model.id} on ${server.name}`, "server-model-use", () => this.guard(() => this.select(server, model))));
    }
    item.append(button("Remove", `Remove ${model.id} from ${server.name}`, "server-model-remove", () => this.guard(() => this.removeModel(server, model)), "secondary danger"));

    const settings = element("div", { class: "server-model-settings" });
    const context = element("input", {
      type: "number", min: "256", max: "10000000", step: "256", "data-testid": "server-model-context",
      "aria-label": `Context length of ${model.id}, in tokens`,
    });
    context.value = String(model.context_length);
    context.addEventListener("change", () => this.guard(() => this.setContext(server, model, context)));
    const contextLabel = element("label", { text: "Context " });
    contextLabel.append(context, element("span", { class: "unit", text: " tokens" }));

    const tools = element("select", {
      "data-testid": "server-model-tools", "aria-label": `How ${model.id} takes tools`,
      title: "Native: the server takes the tools and returns calls. In the prompt: they are described to the model, and its calls read from its text. Test finds out.",
    });
    for (const [value, label] of [["native", "Tools: native"], ["prompt", "Tools: in the prompt"]]) {
      const option = element("option", { text: label });
      option.value = value;
      tools.append(option);
    }
    tools.value = model.tools;
    tools.addEventListener("change", () => this.guard(() => this.setModel(server, model, { tools: tools.value }, "tools")));
    const test = button("Test", `Test whether ${model.id} calls tools natively`, "server-model-test", () => this.guard(() => this.testTools(server, model, test)));

    const thinking = element("input", { type: "checkbox", "data-testid": "server-model-reasoning" });
    thinking.checked = model.reasoning;
    thinking.addEventListener("change", () => this.guard(() => this.setModel(server, model, { reasoning: thinking.checked }, "reasoning")));
    const thinkingLabel = element("label", { class: "switch", title: "Off: the server is asked not to think before answering (Qwen3-style models on vLLM or llama-server)" });
    thinkingLabel.append(thinking, document.createTextNode(" Let the model think first"));

    settings.append(contextLabel, tools, test, thinkingLabel);
    item.append(settings);
    const detail = this.details.get(key);
    if (detail) item.append(element("p", { class: "model-facts", "data-testid": "server-model-test-detail", text: detail }));
    return item;
  }

  // Adding a model: chosen from the server's list, or typed when it has none.
  modelAdder(server) {
    const form = element("form", { class: "server-model-add", "data-testid": "server-model-form" });
    const choices = this.choices.get(server.name);
    const taken = new Set(server.models.map((model) => model.id));
    let field;
    if (choices?.listed) {
      const offered = choices.ids.filter((id) => !taken.has(id));
      if (!offered.length) return form; // every model it lists is set up already
      field = element("select", { "data-testid": "server-model-pick", "aria-label": `Model on ${server.name} to add` });
      for (const id of offered) {
        const length = choices.context_lengths?.[id];
        const option = element("option", { text: length ? `${id} (${length.toLocaleString("en")} tokens)` : id });
        option.value = id;
        field.append(option);
      }
    } else if (choices) {
      field = element("input", {
        type: "text", maxlength: "300", placeholder: "the model's id, e.g. qwen3:8b", "data-testid": "server-model-id",
        "aria-label": `Id of a model on ${server.name}`, autocomplete: "off", spellcheck: "false",
      });
      if (choices.note) form.append(element("p", { class: "model-facts", "data-testid": "server-model-note", text: choices.note }));
    } else {
      return form; // not known yet: the picker comes once the server answers
    }
    const add = element("button", { class: "secondary", type: "submit", "data-testid": "server-model-add", text: "Add model" });
    form.append(field, add);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.guard(() => this.addModel(server, field.value.trim()));
    });
    return form;
  }

  // --- actions ------------------------------------------------------------------------------
  async add() {
    const name = $(this.root, "add-server-name");
    const url = $(this.root, "add-server-url");
    const key = $(this.root, "add-server-key");
    if (!name.value.trim()) return this.message("Give the server a name, e.g. gpu-box.", true);
    if (!url.value.trim()) return this.message("Type the server's address, ending in /v1.", true);
    const serverName = name.value.trim();
    this.overview = await this.api.call("add_server", { name: serverName, base_url: url.value.trim(), api_key: key.value || null });
    key.value = ""; // sent once; never shown again
    name.value = "";
    url.value = "";
    $(this.root, "server-preset-note").textContent = "";
    this.render();
    this.message(`Added ${serverName}. Asking it for its models…`);
    await this.check(serverName);
  }

  // Whether it answers now, and then what it offers; `quiet`: said in its row only.
  async check(name, { quiet = false } = {}) {
    this.states.set(name, { state: "checking" });
    this.render();
    const state = await this.api.call("probe_server", { name });
    this.states.set(name, state);
    if (state.state === "ready") {
      this.choices.set(name, await this.api.call("server_models", { name }));
    }
    this.render();
    if (quiet) return;
    if (state.state === "failed") this.message(`${name} did not answer: ${state.reason}`, true);
    else this.message(`${name}: ${stateText(state)}.`);
  }

  async addModel(server, modelId) {
    if (!modelId) return this.message("Type the model's id as the server knows it.", true);
    this.overview = await this.api.call("set_server_model", { name: server.name, model_id: modelId });
    this.render();
    this.message(`${modelId} is set up: choose Use to chat with it.`);
  }

  async setContext(server, model, input) {
    const tokens = Number(input.value);
    if (!Number.isInteger(tokens) || tokens < 256) {
      input.value = String(model.context_length);
      return this.message("The context length is a whole number of tokens, at least 256.", true);
    }
    await this.setModel(server, model, { context_length: tokens }, "context");
  }

  async setModel(server, model, change, what) {
    this.overview = await this.api.call("set_server_model", { name: server.name, model_id: model.id, ...change });
    this.render();
    const said = {
      context: () => `${model.id} now takes ${change.context_length?.toLocaleString("en")} tokens.`,
      tools: () => (change.tools === "native" ? `${model.id} gets tools natively.` : `${model.id} gets tools in the prompt.`),
      reasoning: () => (change.reasoning ? `${model.id} may think before it answers.` : `${server.name} is asked not to let ${model.id} think first.`),
    }[what];
    this.message(said());
  }

  async testTools(server, model, test) {
    test.disabled = true;
    test.textContent = "Testing…";
    this.message(`Asking ${model.id} for a test tool call…`);
    try {
      const result = await this.api.call("test_server_tools", { name: server.name, model_id: model.id });
      this.details.set(`${server.name}/${model.id}`, result.detail);
      this.overview = result;
      this.message(result.detail);
    } finally {
      this.render();
    }
  }

  async select(server, model) {
    this.overview = await this.api.call("select_server_model", { name: server.name, model_id: model.id });
    this.render();
    this.message(`The chat now uses ${model.id} on ${server.name}.`);
    await this.onSelected();
  }

  async removeModel(server, model) {
    this.overview = await this.api.call("remove_server_model", { name: server.name, model_id: model.id });
    this.render();
    this.message(`Removed ${model.id} from ${server.name}.`);
  }

  async remove(server) {
    const inUse = this.overview.selected?.startsWith(`${server.name}/`);
    const text = inUse ? "One of its models is in use: the chat goes back to the last model on this computer." : "Its models and its key are forgotten.";
    const ok = await confirmDialog({ title: `Remove ${server.name}?`, text, confirmLabel: "Remove", danger: true });
    if (!ok) return;
    this.overview = await this.api.call("remove_server", { name: server.name });
    this.states.delete(server.name);
    this.choices.delete(server.name);
    this.render();
    this.message(`Removed ${server.name}.`);
    if (inUse) await this.onSelected();
  }
}
