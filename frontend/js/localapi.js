// The Local API dialog: its settings (on/off, base URL, key, port, local network, browser
// origins, code snippets) and the live API log. The key stays masked until the user copies it.

import { confirmDialog } from "./dialog.js";
import { byTestId as $, element, formatDate, formatTime, showMessage } from "./dom.js";
import { guarded } from "./notice.js";
import { visible } from "./visible.js";

const MAX_LOG_ROWS = 200; // the rows the table keeps, newest first
const CLIPBOARD_WAIT_MS = 1500;
const KEY_PLACEHOLDER = "YOUR_KEY";
const NEW_KEY = "A new key is made: the old one no longer works. Copy the new one into your programs.";
// The snippets' address while the port is still to be picked (port 0, not serving yet).
const UNPICKED_URL = "http://127.0.0.1:PORT/v1";
const UNPICKED_PORT = "a free port is picked when the API starts";
const NO_LAN_ADDRESS = "not found: use this computer's network address in place of 127.0.0.1";

// Writes `text` to the clipboard; where the page has no clipboard (pywebview's Qt window may
// not), `field` shows it selected for Ctrl+C instead. Resolves whether it was copied.
async function copyText(text, field) {
  try {
    if (!navigator.clipboard?.writeText) throw new Error("no clipboard here");
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("the clipboard did not answer")), CLIPBOARD_WAIT_MS);
    });
    await Promise.race([navigator.clipboard.writeText(text), late]).finally(() => clearTimeout(timer));
    return true;
  } catch {
    field.value = text;
    field.focus();
    field.select();
    return false;
  }
}

// What the state line adds when the API serves on the local network too.
function networkWords(status) {
  if (!status.lan) return "";
  return status.lan_urls.length
    ? `, and other computers on your local network at ${status.lan_urls.join(" or ")}`
    : ", and other computers on your local network at this computer's network address " +
      "in place of 127.0.0.1 (it could not be found here)";
}

// What a failed start means, and what to do about it.
function startProblem(error, port) {
  if (/in use/i.test(error)) {
    return `The API could not start: port ${port} is already used by another program. ` +
      "Choose another port and save it, or close that program and turn the API off and on.";
  }
  if (/permission|denied|errno 13/i.test(error)) {
    return `The API could not start: this computer does not allow port ${port} (${error}). ` +
      "Choose a port above 1024 and save it.";
  }
  return `The API could not start (${error}). Choose another port and save it, ` +
    "or turn the API off and on.";
}

export function pythonSnippet(baseUrl, key) {
  return [
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url="${baseUrl}", api_key="${key}")`,
    "reply = client.chat.completions.create(",
    '    model="default",  # the model chosen in the app, or an id from client.models.list()',
    '    messages=[{"role": "user", "content": "Hello!"}],',
    ")",
    "print(reply.choices[0].message.content)",
  ].join("\n");
}

export function curlSnippet(baseUrl, key) {
  return [
    `curl ${baseUrl}/chat/completions \\`,
    `  -H "Authorization: Bearer ${key}" \\`,
    '  -H "Content-Type: application/json" \\',
    `  -d '{"model": "default", "messages": [{"role": "user", "content": "Hello!"}]}'`,
  ].join("\n");
}

function duration(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

const STATUS_WORDS = { 499: "the client left before the answer" };

export class LocalApiPane {
  constructor(api) {
    this.api = api;
    this.dialog = document.querySelector('[data-testid="api-dialog"]');
    this.guard = guarded((error) => this.message(error.message, true));
    this.status = null;
    this.key = null; // the key itself, only after the user's Copy; forgotten on close
    this.rows = []; // the API log, newest first
    this.lastId = 0;
    const on = (testId, type, handler) => $(this.dialog, testId).addEventListener(type, handler);
    on("api-tab-settings", "click", () => this.showTab("settings"));
    on("api-tab-log", "click", () => this.showTab("log"));
    for (const tab of ["settings", "log"]) {
      on(`api-tab-${tab}`, "keydown", (event) => {
        if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
        event.preventDefault();
        const other = tab === "settings" ? "log" : "settings";
        this.showTab(other);
        $(this.dialog, `api-tab-${other}`).focus();
      });
    }
    on("api-enabled", "change", (event) => this.setEnabled(event.target.checked));
    on("api-lan", "change", (event) => this.setLan(event.target.checked));
    on("api-copy-url", "click", () => this.copy(this.status.base_url, "api-base-url", "The base URL"));
    on("api-copy-lan-url", "click", () => this.copy(this.status.lan_urls[0], "api-lan-url", "The network base URL"));
    on("api-copy-key", "click", () => this.copyKey());
    on("api-hide-key", "click", () => this.hideKey());
    on("api-regenerate", "click", () => this.regenerate());
    on("api-copy-python", "click", () => this.copySnippet("api-snippet-python", "The Python example"));
    on("api-copy-curl", "click", () => this.copySnippet("api-snippet-curl", "The curl example"));
    on("api-port-form", "submit", (event) => {
      event.preventDefault();
      this.savePort();
    });
    on("api-origins-form", "submit", (event) => {
      event.preventDefault();
      this.saveOrigins();
    });
    on("api-close", "click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => this.hideKey());
  }

  get isOpen() {
    return this.dialog.open;
  }

  async open(tab = "settings") {
    const [status, rows] = await Promise.all([
      this.api.call("api_status"),
      this.api.call("api_log", { after: this.lastId, limit: MAX_LOG_ROWS }),
    ]);
    for (const row of rows) this.addRow(row);
    this.render(status, { fields: true });
    this.renderLog();
    this.message("");
    this.showTab(tab);
    this.dialog.showModal();
  }

  showTab(name) {
    for (const tab of ["settings", "log"]) {
      const chosen = tab === name;
      const button = $(this.dialog, `api-tab-${tab}`);
      button.setAttribute("aria-selected", String(chosen));
      button.tabIndex = chosen ? 0 : -1;
      $(this.dialog, `api-panel-${tab}`).hidden = !chosen;
    }
  }

  // `fields`: also the editable fields (port, origins), which are not redrawn while edited.
  render(status, { fields = false } = {}) {
    this.status = status;
    const d = this.dialog;
    $(d, "api-enabled").checked = status.enabled;
    $(d, "api-lan").checked = status.lan;
    $(d, "api-state").textContent = !status.enabled
      ? "Off: no program can reach your models through it."
      : status.running
        ? `On: programs on this computer can reach it at ${status.base_url}${networkWords(status)}.`
        : "On, but not serving.";
    const error = $(d, "api-error");
    error.hidden = !(status.enabled && !status.running && status.error);
    error.textContent = error.hidden ? "" : startProblem(status.error, status.port);
    // Port 0: the port is picked when the API starts, and only then is there an address.
    $(d, "api-base-url").value = status.base_url ?? "";
    $(d, "api-base-url").placeholder = status.base_url ? "" : UNPICKED_PORT;
    $(d, "api-copy-url").disabled = !status.base_url;
    // Serving on the network: the address other computers use, beside the loopback one.
    for (const id of ["api-lan-label", "api-lan-row"]) $(d, id).hidden = !status.lan;
    $(d, "api-lan-url").value = status.lan_urls[0] ?? "";
    $(d, "api-lan-url").placeholder = status.base_url ? NO_LAN_ADDRESS : UNPICKED_PORT;
    $(d, "api-copy-lan-url").disabled = status.lan_urls.length === 0;
    if (this.key === null) $(d, "api-key").value = status.masked_key;
    if (fields) {
      $(d, "api-port").value = String(status.port);
      $(d, "api-origins").value = status.cors_origins.join("\n");
    }
    this.renderSnippets();
  }

  renderSnippets() {
    const key = this.key ?? KEY_PLACEHOLDER;
    const url = this.status.base_url ?? UNPICKED_URL;
    $(this.dialog, "api-snippet-python").value = pythonSnippet(url, key);
    $(this.dialog, "api-snippet-curl").value = curlSnippet(url, key);
    const port = this.status.base_url ? "" : "PORT is the port picked when the API starts. ";
    $(this.dialog, "api-snippet-help").textContent = port + (this.key === null
      ? `Put your key in place of ${KEY_PLACEHOLDER} (Copy next to the key). "default" is the model chosen in the app.`
      : `Your key is filled in because you copied it: keep these snippets private. "default" is the model chosen in the app.`);
  }

  setEnabled(enabled) {
    return this.apply("set_api_enabled", { enabled }, enabled ? "" : "The API is off.");
  }

  async setLan(lan) {
    if (lan) {
      const ok = await confirmDialog({
        title: "Serve on the local network?",
        text: "Anyone on your network who has the key can then use your models. The key is " +
          "required for every request; keep it secret.",
        confirmLabel: "Serve on the network",
        danger: true,
      });
      if (!ok) {
        $(this.dialog, "api-lan").checked = false;
        return undefined;
      }
    }
    return this.apply("set_api_lan", { lan }, lan
      ? "Serving on the local network too: other computers use the base URL under “From the network”."
      : "Serving on this computer only.");
  }

  savePort() {
    const text = $(this.dialog, "api-port").value.trim();
    const port = Number(text);
    if (!/^\d+$/.test(text) || port > 65535) {
      return this.message("The port is a whole number from 0 to 65535, e.g. 7373 (0 picks a free port).", true);
    }
    const done = port === 0 ? "A free port is picked each time the API starts." : `The port is now ${port}.`;
    return this.apply("set_api_port", { port }, done, { fields: true });
  }

  saveOrigins() {
    const origins = $(this.dialog, "api-origins").value.split("\n").map((line) => line.trim()).filter(Boolean);
    if (origins.some((origin) => origin.includes("*"))) {
      return this.message("Not *: list each web page's origin exactly, e.g. http://localhost:3000.", true);
    }
    return this.apply("set_api_origins", { origins }, origins.length
      ? `${origins.length === 1 ? "1 web page" : `${origins.length} web pages`} may call the API from a browser.`
      : "No web page may call the API from a browser.", { fields: true });
  }

  // Calls a setter; the switches show the setting the backend kept, even after a failure.
  async apply(method, params, done, options = {}) {
    const switches = [$(this.dialog, "api-enabled"), $(this.dialog, "api-lan")];
    for (const control of switches) control.disabled = true;
    try {
      const status = await this.guard(() => this.api.call(method, params));
      if (status) {
        this.render(status, options);
        this.message(status.enabled && !status.running && status.error ? "" : done);
      } else if (this.status) {
        this.render(this.status);
      }
    } finally {
      for (const control of switches) control.disabled = false;
    }
  }

  async copy(text, fieldId, what) {
    const copied = await copyText(text, $(this.dialog, fieldId));
    this.message(copied ? `${what} is copied.` : `${what} is selected: press Ctrl+C to copy it.`);
    return copied;
  }

  copyKey() {
    return this.guard(async () => {
      const { key } = await this.api.call("copy_api_key");
      this.key = key;
      $(this.dialog, "api-key").value = key;
      $(this.dialog, "api-hide-key").hidden = false;
      this.renderSnippets();
      await this.copy(key, "api-key", "The key");
    });
  }

  copySnippet(fieldId, what) {
    const field = $(this.dialog, fieldId);
    return this.copy(field.value, fieldId, what);
  }

  forgetKey() {
    this.key = null;
    $(this.dialog, "api-hide-key").hidden = true;
  }

  hideKey() {
    this.forgetKey();
    if (this.status) this.render(this.status);
  }

  async regenerate() {
    const ok = await confirmDialog({
      title: "Make a new API key?",
      text: "Programs using the old key stop working at once, until you give them the new one.",
      confirmLabel: "Regenerate",
      danger: true,
    });
    if (!ok) return undefined;
    return this.guard(async () => {
      this.forgetKey();
      this.render(await this.api.call("regenerate_api_key"));
      this.message(NEW_KEY);
    });
  }

  // --- the API log ---------------------------------------------------------------------------
  onRow(row) {
    if (this.addRow(row) && this.isOpen) this.renderLog();
  }

  addRow(row) {
    if (row.id <= this.lastId) return false; // already here (the event and the fetch overlap)
    this.lastId = row.id;
    this.rows.unshift(row);
    this.rows.length = Math.min(this.rows.length, MAX_LOG_ROWS);
    return true;
  }

  // The server started, stopped or has a new key (regenerated here or in another view, e.g.
  // the browser beside the window): a key this view revealed is forgotten once it is old.
  onServer(status) {
    if (!this.isOpen) return;
    const newKey = this.status !== null && status.masked_key !== this.status.masked_key;
    if (newKey) this.forgetKey();
    this.render(status);
    if (newKey) this.message(NEW_KEY);
  }

  renderLog() {
    const body = $(this.dialog, "api-log-rows");
    body.replaceChildren(...this.rows.map((row) => this.logRow(row)));
    $(this.dialog, "api-log-empty").hidden = this.rows.length > 0;
    $(this.dialog, "api-log").hidden = this.rows.length === 0;
    $(this.dialog, "api-log-count").textContent = this.rows.length ? `(${this.rows.length})` : "";
  }

  logRow(row) {
    const failed = row.status >= 400;
    const tr = element("tr", { class: failed ? "failed" : "", "data-testid": "api-log-row" });
    const cell = (text, testId, className = "") =>
      element("td", { class: className, "data-testid": testId, text: visible(String(text)) });
    const when = element("time", { text: formatTime(row.time), datetime: new Date(row.time * 1000).toISOString() });
    when.title = formatDate(row.time);
    const time = element("td", { "data-testid": "api-log-time" });
    time.append(when);
    const tokens = (count) => (count ?? "–");
    const model = cell(row.model ?? "–", "api-log-model");
    if (row.model) model.title = row.model;
    const status = cell(row.status, "api-log-status", "num api-status-code");
    if (STATUS_WORDS[row.status]) status.title = STATUS_WORDS[row.status];
    tr.append(
      time,
      cell(row.client, "api-log-client", "mono"),
      cell(row.endpoint, "api-log-endpoint", "mono"),
      model,
      cell(`${tokens(row.tokens_in)} / ${tokens(row.tokens_out)}`, "api-log-tokens", "num"),
      cell(duration(row.duration_ms), "api-log-duration", "num"),
      status,
    );
    return tr;
  }

  message(text, error = false) {
    showMessage($(this.dialog, "api-message"), text, error);
  }
}
