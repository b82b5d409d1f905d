// The Tools & MCP servers dialog: each MCP server with its state (why it failed, its last
// stderr lines, the advice), its switch, start and timeout, its tools each with a policy (ask,
// allow, off), what the offered tool list costs of the model's context, and the forms that add
// a server or import another app's mcpServers JSON. Secrets typed here go to the bridge once:
// the page only ever shows them masked, as the backend gives them.

import { confirmDialog } from "./dialog.js";
import { byTestId as $, element, showMessage } from "./dom.js";
import { guarded } from "./notice.js";
import { visible } from "./visible.js";

const POLICY_WORDS = [["ask", "Ask first"], ["allow", "Allow"], ["off", "Off"]];
const START_WORDS = [["on_use", "Start on first use"], ["at_launch", "Start at launch"]];
const FOLDED_ABOVE = 6; // a server with more tools than this shows them folded at first
const COSTLY_SHARE = 0.5; // above this share of the context, the cost is shown as a warning

function button(label, accessibleName, testId, onClick, kind = "secondary") {
  const node = element("button", { class: kind, type: "button", "aria-label": accessibleName, "data-testid": testId, text: label });
  node.addEventListener("click", onClick);
  return node;
}

function select(choices, value, attributes) {
  const node = element("select", attributes);
  for (const [choice, label] of choices) node.append(Object.assign(element("option", { text: label }), { value: choice }));
  node.value = value;
  return node;
}

// One line of arguments split as a shell would: spaces separate, quotes ('…' or "…") keep
// spaces, a backslash escapes the next character. Throws on an unclosed quote.
export function splitArguments(line) {
  const words = [];
  let word = null;
  let quote = null;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index];
    if (quote) {
      if (char === quote) quote = null;
      else if (char === "\\" && quote === '"' && index + 1 < line.length) word += line[++index];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      word ??= "";
    } else if (char === "\\" && index + 1 < line.length) {
      word = (word ?? "") + line[++index];
    } else if (/\s/.test(char)) {
      if (word !== null) words.push(word);
      word = null;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (quote) throw new Error(`The arguments have an unclosed ${quote} quote.`);
  if (word !== null) words.push(word);
  return words;
}

// "NAME=value" (or "Name: value") lines as an object; blank lines are skipped.
export function parsePairs(text, separator, what) {
  const pairs = {};
  for (const [number, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf(separator);
    if (at <= 0) throw new Error(`${what}, line ${number + 1}: write it as NAME${separator === ":" ? ": " : "="}value.`);
    pairs[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return pairs;
}

const plural = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

// "The 2 offered tools cost about 310 tokens of the model's 8,192-token context (4 %)."
export function costLine({ offered_tokens: cost, offered_tools: tools, context_length: context }) {
  if (!tools) return { text: "No tools are offered to the model now: they cost none of its context.", heavy: false };
  const about = cost.exact ? "" : "about ";
  const head = `The ${plural(tools, "offered tool")} ${tools === 1 ? "costs" : "cost"} ${about}${plural(cost.tokens, "token")}`;
  if (!context) return { text: `${head} (no model is loaded: its context length is not known yet).`, heavy: false };
  const share = cost.tokens / context;
  return {
    text: `${head} of the model's ${context.toLocaleString("en")}-token context (${Math.round(share * 100)} %).`,
    heavy: share > COSTLY_SHARE,
  };
}

export class McpDialog {
  constructor(api) {
    this.api = api;
    this.dialog = document.querySelector('[data-testid="mcp-dialog"]');
    this.data = null;
    this.starting = new Set(); // servers being started or restarted by this page
    this.unfolded = new Set(); // servers whose tool list the user unfolded, or folded
    this.folded = new Set();
    this.guard = guarded((error) => this.showError(error));
    $(this.dialog, "mcp-close").addEventListener("click", () => this.dialog.close());
    $(this.dialog, "mcp-add-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.guard(() => this.add());
    });
    $(this.dialog, "mcp-import-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.guard(() => this.importDocument());
    });
    for (const radio of this.dialog.querySelectorAll('input[name="mcp-kind"]')) {
      radio.addEventListener("change", () => this.showKind());
    }
  }

  // The list as it is now, then the servers that are on are started (in the background) so
  // that their tools show.
  async open() {
    this.message("");
    await this.load(false);
    this.dialog.showModal();
    this.guard(() => this.startAll());
  }

  async load(start) {
    this.data = await this.api.call("mcp_servers", { start });
    this.render();
  }

  async startAll() {
    const waiting = this.data.servers.filter((server) => server.enabled && server.state === "stopped");
    if (!waiting.length) return;
    for (const server of waiting) this.starting.add(server.name);
    this.render();
    try {
      await this.load(true);
    } finally {
      for (const server of waiting) this.starting.delete(server.name);
      this.render();
    }
  }

  showKind() {
    const http = $(this.dialog, "mcp-kind-http").checked;
    $(this.dialog, "mcp-stdio-fields").hidden = http;
    $(this.dialog, "mcp-http-fields").hidden = !http;
  }

  // --- rendering ----------------------------------------------------------------------------
  render() {
    const { servers, notice } = this.data;
    const cost = costLine(this.data);
    const costNode = $(this.dialog, "mcp-cost");
    costNode.textContent = cost.text;
    costNode.classList.toggle("heavy", cost.heavy);
    const noticeNode = $(this.dialog, "mcp-notice");
    noticeNode.textContent = notice ?? "";
    noticeNode.hidden = !notice;
    $(this.dialog, "mcp-empty").hidden = servers.length > 0;
    $(this.dialog, "mcp-list").replaceChildren(...servers.map((server) => this.serverItem(server)));
  }

  serverItem(server) {
    const item = element("li", { class: "server mcp-server", "data-testid": "mcp-server", "data-name": server.name });
    const head = element("div", { class: "server-head" });
    const enabled = element("input", { type: "checkbox", "data-testid": "mcp-enabled", "aria-label": `${server.name} on` });
    enabled.checked = server.enabled;
    enabled.addEventListener("change", () => this.guard(() => this.setEnabled(server, enabled.checked)));
    const switchLabel = element("label", { class: "switch", title: "Off: its tools are not offered and it is not started" });
    switchLabel.append(enabled, document.createTextNode(" On"));
    head.append(
      switchLabel,
      element("span", { class: "model-name", text: server.name }),
      element("span", { class: "badge", text: server.kind === "http" ? "HTTP" : "stdio" }),
      element("span", { class: "server-url", "data-testid": "mcp-command", text: visible(this.commandText(server)) }),
      button("Restart", `Restart ${server.name}`, "mcp-restart", () => this.guard(() => this.restart(server))),
      button("Remove", `Remove ${server.name}`, "mcp-remove", () => this.guard(() => this.remove(server)), "secondary danger"),
    );
    item.append(head);

    const settings = element("div", { class: "server-model-settings" });
    const start = select(START_WORDS, server.start, { "data-testid": "mcp-start", "aria-label": `When ${server.name} starts` });
    start.addEventListener("change", () => this.guard(() => this.change(server, "mcp_set_start", { start: start.value }, `${server.name} now starts ${start.value === "at_launch" ? "when the app starts" : "when a reply first needs it"}.`)));
    const timeout = element("input", { type: "number", min: "1", max: "600", step: "1", "data-testid": "mcp-timeout", "aria-label": `Timeout of ${server.name}, in seconds` });
    timeout.value = String(server.timeout);
    timeout.addEventListener("change", () => this.guard(() => this.setTimeout(server, timeout)));
    const timeoutLabel = element("label", { text: "Timeout " });
    timeoutLabel.append(timeout, element("span", { class: "unit", text: " s" }));
    settings.append(start, timeoutLabel);
    if (server.tool_tokens && server.tools.length) {
      const about = server.tool_tokens.exact ? "" : "about ";
      settings.append(element("span", { class: "unit", "data-testid": "mcp-server-tokens", text: `its tools: ${about}${plural(server.tool_tokens.tokens, "token")}` }));
    }
    item.append(settings);

    const starting = this.starting.has(server.name);
    const state = starting ? "starting" : server.state;
    const line = element("p", { class: "server-state", "data-testid": "mcp-state", text: starting ? "starting…" : visible(server.state_text) });
    line.dataset.state = state === "ready" ? "ready" : state === "failed" ? "failed" : state;
    item.append(line);
    if (!starting && server.state === "failed") {
      const tail = server.error?.stderr_tail ?? [];
      if (tail.length) {
        item.append(element("pre", { class: "mcp-stderr", "data-testid": "mcp-stderr", "aria-label": `The last lines ${server.name} wrote`, text: visible(tail.join("\n"), { keepLines: true }) }));
      }
      if (server.advice) item.append(element("p", { class: "server-warning", "data-testid": "mcp-advice", text: server.advice }));
    }
    if (server.tools.length) {
      const tools = element("ul", { class: "server-models mcp-tools", role: "list", "aria-label": `Tools of ${server.name}` });
      for (const tool of server.tools) tools.append(this.toolItem(server, tool));
      // A long list is folded (its heading counts them), and stays as the user left it.
      const fold = element("details", { class: "mcp-tools-fold", "data-testid": "mcp-tools-fold" });
      fold.open = this.unfolded.has(server.name) || (server.tools.length <= FOLDED_ABOVE && !this.folded.has(server.name));
      fold.addEventListener("toggle", () => {
        (fold.open ? this.folded : this.unfolded).delete(server.name);
        (fold.open ? this.unfolded : this.folded).add(server.name);
      });
      fold.append(element("summary", { "data-testid": "mcp-tools-toggle", text: `${plural(server.tools.length, "tool")}: what each may do` }), tools);
      item.append(fold);
    }
    return item;
  }

  // What runs it, secrets masked as the backend gives them.
  commandText(server) {
    if (server.kind === "http") {
      const headers = Object.entries(server.headers ?? {}).map(([key, value]) => `${key}: ${value}`);
      return [server.url, ...headers].join(" · ");
    }
    const env = Object.entries(server.env ?? {}).map(([key, value]) => `${key}=${value}`);
    const line = [server.command, ...(server.args ?? [])].map((word) => (/[\s"']/.test(word) ? JSON.stringify(word) : word)).join(" ");
    return [line, ...env, ...(server.cwd ? [`in ${server.cwd}`] : [])].join(" · ");
  }

  toolItem(server, tool) {
    const item = element("li", { class: "server-model mcp-tool", "data-testid": "mcp-tool", "data-tool": tool.name });
    item.append(element("span", { class: "model-name", text: visible(tool.name) }));
    if (tool.destructive_hint) {
      item.append(element("span", { class: "badge wont_fit", text: "may change things", title: "The server says this tool may change or delete things" }));
    }
    const policy = select(POLICY_WORDS, tool.policy, { "data-testid": "mcp-tool-policy", "aria-label": `Policy of ${tool.name} on ${server.name}` });
    policy.addEventListener("change", () => this.guard(() => this.setPolicy(server, tool, policy.value)));
    item.append(policy);
    if (tool.chosen === null && tool.read_only_hint && tool.policy === "allow") {
      item.append(element("span", {
        class: "badge hint", "data-testid": "mcp-tool-hint", text: "read-only hint",
        title: "The server says this tool only reads: it runs without asking until you choose otherwise",
      }));
    }
    if (tool.chosen !== null) {
      const back = tool.read_only_hint ? "Allow, from the server's read-only hint" : "Ask first";
      item.append(button("Reset", `Reset ${tool.name} to the default: ${back}`, "mcp-tool-reset", () => this.guard(() => this.setPolicy(server, tool, null))));
    }
    if (tool.description) {
      item.append(element("p", { class: "model-facts mcp-tool-description", text: visible(tool.description) }));
    }
    return item;
  }

  // --- actions ------------------------------------------------------------------------------
  // One server's new listing in place (its tool cost kept until the next load).
  replace(listing) {
    const servers = this.data.servers.map((server) => (server.name === listing.name ? { ...listing, tool_tokens: server.tool_tokens } : server));
    this.data = { ...this.data, servers };
    this.render();
  }

  // One change, then the whole list once (the costs follow it): drawn once, so that a field
  // the user is typing in is not redrawn twice under their hands.
  async change(server, method, params, said) {
    await this.api.call(method, { name: server.name, ...params });
    await this.load(false);
    this.message(said);
  }

  async setEnabled(server, enabled) {
    await this.change(server, "mcp_set_enabled", { enabled }, enabled ? `${server.name} is on.` : `${server.name} is off: its tools are not offered.`);
    if (enabled) await this.startAll();
  }

  async setTimeout(server, input) {
    const seconds = Number(input.value);
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 600) {
      input.value = String(server.timeout);
      return this.message("The timeout is a number of seconds from 1 to 600.", true);
    }
    await this.change(server, "mcp_set_timeout", { timeout: seconds }, `${server.name} now has ${plural(seconds, "second")} to answer.`);
  }

  async setPolicy(server, tool, policy) {
    const words = { ask: "asks you first", allow: "runs without asking", off: "is not offered to the model" };
    const listing = await this.api.call("mcp_set_tool_policy", { name: server.name, tool: tool.name, policy });
    await this.load(false);
    const now = listing.tools.find((each) => each.name === tool.name);
    this.message(policy === null ? `${tool.name} is back to its default: it ${words[now?.policy ?? "ask"]}.` : `${tool.name} ${words[policy]}.`);
  }

  async restart(server) {
    this.starting.add(server.name);
    this.render();
    let listing;
    try {
      listing = await this.api.call("mcp_restart", { name: server.name });
    } finally {
      this.starting.delete(server.name);
    }
    this.replace(listing);
    await this.load(false);
    const said = listing.state_text.replace(/[.\s]+$/, "");
    this.message(`${server.name}: ${said}.`, listing.state === "failed");
  }

  async remove(server) {
    const ok = await confirmDialog({
      title: `Remove ${server.name}?`, text: "It is stopped, and its settings and tool choices are forgotten.", confirmLabel: "Remove", danger: true,
    });
    if (!ok) return;
    await this.api.call("mcp_remove", { name: server.name });
    await this.load(false);
    this.message(`Removed ${server.name}.`);
  }

  async add() {
    const name = $(this.dialog, "mcp-add-name").value.trim();
    if (!name) return this.message("Give the server a name, e.g. time.", true);
    const timeout = Number($(this.dialog, "mcp-add-timeout").value || 30);
    let listing;
    if ($(this.dialog, "mcp-kind-http").checked) {
      const url = $(this.dialog, "mcp-add-url").value.trim();
      if (!url) return this.message("Type the server's address, e.g. https://example.com/mcp.", true);
      const headers = parsePairs($(this.dialog, "mcp-add-headers").value, ":", "Headers");
      listing = await this.api.call("mcp_add_http", { name, url, headers, timeout });
    } else {
      const command = $(this.dialog, "mcp-add-command").value.trim();
      if (!command) return this.message("Type the command that starts the server, e.g. uvx.", true);
      const args = splitArguments($(this.dialog, "mcp-add-args").value);
      const env = parsePairs($(this.dialog, "mcp-add-env").value, "=", "Environment");
      const cwd = $(this.dialog, "mcp-add-cwd").value.trim() || null;
      listing = await this.api.call("mcp_add_stdio", { name, command, args, env, cwd, timeout });
    }
    // Sent once: the secrets are never shown again, and the form is ready for the next one.
    for (const testId of ["mcp-add-name", "mcp-add-command", "mcp-add-args", "mcp-add-env", "mcp-add-cwd", "mcp-add-url", "mcp-add-headers"]) {
      $(this.dialog, testId).value = "";
    }
    await this.load(false);
    this.message(`Added ${name}. Starting it…`);
    await this.restart(listing);
  }

  async importDocument() {
    const text = $(this.dialog, "mcp-import-text").value;
    if (!text.trim()) return this.message("Paste an mcpServers JSON document first.", true);
    const { added, skipped } = await this.api.call("mcp_import", { text });
    $(this.dialog, "mcp-import-text").value = ""; // it may hold keys: not kept on the page
    const result = $(this.dialog, "mcp-import-result");
    result.replaceChildren(
      ...added.map((name) => element("li", { class: "added", "data-testid": "mcp-import-added", text: `Added ${name}` })),
      ...skipped.map(({ name, reason }) => element("li", { class: "skipped", "data-testid": "mcp-import-skipped", text: `Skipped ${name}: ${reason}` })),
    );
    await this.load(false);
    this.message(`Imported ${plural(added.length, "server")}${skipped.length ? `, skipped ${skipped.length}` : ""}.`);
    await this.startAll();
  }

  showError(error) {
    const fields = error.details?.fields;
    const detail = fields ? Object.entries(fields).map(([field, problem]) => `${field}: ${problem}`).join(" · ") : "";
    this.message(detail ? `${error.message} ${detail}` : error.message, true);
  }

  message(text, error = false) {
    showMessage($(this.dialog, "mcp-message"), text, error);
  }
}
