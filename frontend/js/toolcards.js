// Tool calls in a reply, as cards: tool, arguments, status, the change to approve, the result.
// Arguments, diffs and results come from the model or from files: all set with textContent,
// with hidden characters escaped (visible.js); nothing is cut without saying how much.

import { element } from "./dom.js";
import { visible } from "./visible.js";

const STATUS_WORDS = {
  waiting: "Waiting for your approval",
  running: "Running…",
  done: "Done",
  failed: "Failed",
  denied: "Denied",
  stopped: "Stopped",
  undone: "Undone",
};
const SHOWN_ARGUMENT_CHARS = 160;


function button(label, testId, className = "secondary") {
  const node = element("button", { class: className, text: label });
  node.type = "button";
  node.dataset.testid = testId;
  return node;
}

const statusWords = (status) => (Object.hasOwn(STATUS_WORDS, status) ? STATUS_WORDS[status] : String(status));

// A done call whose change was undone later (in Activity) says so, on every card showing it.
export function markUndone(auditId, root = document) {
  for (const card of root.querySelectorAll(`[data-testid="tool-card"][data-audit-id="${auditId}"]`)) {
    if (card.dataset.status !== "done") continue;
    card.dataset.status = "undone";
    const badge = card.querySelector('[data-testid="tool-status"]');
    badge.className = "badge tool-status undone";
    badge.textContent = STATUS_WORDS.undone;
    card.setAttribute("aria-label", `Tool call ${card.querySelector(".tool-name").textContent}: ${STATUS_WORDS.undone}`);
  }
}

const count = (n, word) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;

// Each argument on its own terms: a long one (a file's content) is cut with its size said,
// so a path or a destination after it is never cut away.
export function describeArguments(args) {
  if (!args || typeof args !== "object") return "";
  return Object.entries(args)
    .map(([key, value]) => {
      const text = visible(typeof value === "string" ? value : JSON.stringify(value));
      const more = text.length - SHOWN_ARGUMENT_CHARS;
      return `${key}: ${more > 0 ? `${text.slice(0, SHOWN_ARGUMENT_CHARS)}… (${count(more, "more character")})` : text}`;
    })
    .join(", ");
}

function diffView(diff) {
  const pre = element("pre", { class: "diff" });
  pre.dataset.testid = "tool-diff";
  for (const line of diff.split("\n")) {
    const kind = line.startsWith("+") && !line.startsWith("+++") ? "add"
      : line.startsWith("-") && !line.startsWith("---") ? "del" : "same";
    pre.append(element("span", { class: `diff-line ${kind}`, text: `${visible(line)}\n` }));
  }
  return pre;
}

// A diff cut short may show only removed lines: what will be written is shown on its own.
function newContentView(content) {
  const whole = content.start.length >= content.chars;
  const note = element("p", {
    class: "tool-content-note",
    text: `What will be written: ${count(content.chars, "character")} in ${count(content.lines, "line")}` +
      (whole ? ", all of it below." : `; below, its first ${count(content.start.length, "character")}.`),
  });
  const pre = element("pre", { class: "diff new-content", text: visible(content.start, { keepLines: true }) });
  pre.dataset.testid = "tool-new-content";
  const box = element("div", { class: "tool-new" });
  box.append(note, pre);
  return box;
}

// Builds and updates the cards of one reply. `onAnswer(call, answer, reason)` sends approvals.
export class ToolCards {
  constructor({ onAnswer }) {
    this.onAnswer = onAnswer;
  }

  // A stored reply: its rounds in order, each the text said first and then its calls.
  showStored(messageNode, meta) {
    const calls = Array.isArray(meta.tool_calls) ? meta.tool_calls : [];
    const texts = Array.isArray(meta.round_texts) ? meta.round_texts : [];
    const roundOf = (call) => (Number.isInteger(call?.round) ? call.round : 0);
    const rounds = [...new Set(calls.map(roundOf))].sort((a, b) => a - b);
    const tools = messageNode.querySelector(".message-tools"); // before the final text
    for (const round of rounds) {
      const text = typeof texts[round] === "string" ? texts[round] : "";
      if (text.trim()) tools.append(element("div", { class: "round-text", text }));
      for (const call of calls.filter((c) => roundOf(c) === round)) tools.append(this.card(call, null));
    }
    if (meta.notice) this.showNotice(messageNode, meta.notice);
  }

  // A live tool_call event: the round's text (if not shown yet), then the card or its update.
  update(messageNode, conversationId, call, roundText) {
    const tools = messageNode.querySelector(".message-tools");
    const existing = tools.querySelector(`[data-call-id="${CSS.escape(call.id)}"]`);
    if (existing) {
      existing.replaceWith(this.card(call, conversationId));
      return;
    }
    if (roundText.trim() && !tools.querySelector(`[data-round="${call.round}"]`)) {
      const said = element("div", { class: "round-text", text: roundText });
      said.dataset.round = String(call.round);
      tools.append(said);
    }
    tools.append(this.card(call, conversationId));
  }

  showNotice(messageNode, text) {
    const note = element("p", { class: "tool-notice", text });
    note.dataset.testid = "tool-notice";
    note.setAttribute("role", "note");
    messageNode.querySelector(".message-meta").before(note);
  }

  card(call, conversationId) {
    const card = element("section", { class: "tool-card" });
    card.dataset.testid = "tool-card";
    card.dataset.callId = call.id;
    const status = call.status === "done" && call.undone === true ? "undone" : call.status;
    card.dataset.status = status;
    if (Number.isInteger(call.audit_id)) card.dataset.auditId = String(call.audit_id);
    card.setAttribute("aria-label", `Tool call ${call.tool ?? "(unreadable)"}: ${statusWords(status)}`);

    const header = element("div", { class: "tool-header" });
    header.append(
      element("span", { class: "tool-name", text: typeof call.tool === "string" ? call.tool : "unreadable call" }),
      element("span", { class: "tool-args", text: describeArguments(call.arguments) }),
      element("span", { class: `badge tool-status ${status}`, text: statusWords(status) }),
    );
    header.lastChild.dataset.testid = "tool-status";
    card.append(header);

    if (typeof call.preview?.summary === "string") {
      card.append(element("p", { class: "tool-preview", text: visible(call.preview.summary) }));
    }
    if (typeof call.preview?.diff === "string" && (call.status === "waiting" || call.status === "denied")) {
      card.append(diffView(call.preview.diff));
      const content = call.preview.content;
      if (typeof content?.start === "string" && Number.isInteger(content.chars)) card.append(newContentView(content));
    }
    if (call.status === "running" && typeof call.progress === "string" && call.progress) {
      // A long call's progress, as its MCP server reports it.
      const progress = element("p", { class: "tool-progress", text: visible(call.progress) });
      progress.dataset.testid = "tool-progress";
      card.append(progress);
    }
    if (call.status === "waiting" && conversationId) card.append(this.approval(call));
    if (call.status === "denied" && typeof call.reason === "string" && call.reason) {
      card.append(element("p", { class: "tool-reason", text: `Your reason: ${call.reason}` }));
    }
    if (call.error || call.result) card.append(this.outcome(call));
    return card;
  }

  approval(call) {
    const group = element("div", { class: "tool-approval" });
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", `Allow ${call.tool}?`);
    const once = button("Approve", "approve-once", "");
    const always = button(`Allow ${call.tool} in this chat`, "approve-conversation");
    const reasonLabel = element("label", {
      class: "visually-hidden", text: "Why not (optional, the assistant reads it)",
    });
    const reason = element("input", { class: "deny-reason" });
    reason.type = "text";
    reason.maxLength = 2000;
    reason.placeholder = "Why not? (optional)";
    reason.dataset.testid = "deny-reason";
    reason.id = `deny-reason-${call.id}`;
    reasonLabel.htmlFor = reason.id;
    const deny = button("Deny", "deny", "secondary danger");
    const answer = (kind) => {
      for (const control of group.querySelectorAll("button, input")) control.disabled = true;
      this.onAnswer(call, kind, reason.value);
    };
    once.addEventListener("click", () => answer("once"));
    always.addEventListener("click", () => answer("conversation"));
    deny.addEventListener("click", () => answer("deny"));
    reason.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        answer("deny");
      }
    });
    group.append(once, always, reasonLabel, reason, deny);
    return group;
  }

  outcome(call) {
    const details = element("details", { class: "tool-outcome" });
    // A call the user denied (or stopped) did not go wrong: it was not run.
    const heading = ["denied", "stopped"].includes(call.status) ? "Not run" : call.error ? "Error" : "Result";
    const summary = element("summary", { text: heading, "data-testid": "tool-outcome-toggle" });
    const shown = call.shown && typeof call.shown === "object" && Array.isArray(call.shown.content) ? call.shown : null;
    if (shown) {
      // Another program ran it (an MCP server): its own words, and its failure marked as its.
      if (shown.is_error === true) {
        summary.textContent = "Error from the server";
        details.classList.add("server-error");
      }
      details.append(summary, shownView(call, shown));
    } else {
      details.append(summary, call.error ? errorView(call.error) : resultView(call));
    }
    // What really happened is worth seeing without a click; another program's answer is
    // folded (it may be long, or an image), its heading saying what it is.
    details.open = !shown;
    return details;
  }
}

function errorView(error) {
  const body = element("pre", { class: "tool-result" });
  body.dataset.testid = "tool-result";
  body.textContent = visible(String(error), { keepLines: true });
  return body;
}

// The real result, plainly: what the call did in words, then a listing as a list or a file's
// text as text. The JSON the model received stays one click away.
function resultView(call) {
  const body = element("div", { class: "tool-result" });
  body.dataset.testid = "tool-result";
  const result = call.result ?? {};
  if (typeof call.outcome === "string") body.append(element("p", { class: "tool-said", text: visible(call.outcome) }));
  const items = Array.isArray(result.entries)
    ? result.entries.map((entry) => `${entry?.name}${entry?.type === "folder" ? "/" : ""}`)
    : Array.isArray(result.matches) ? result.matches.map((match) => String(match?.path)) : null;
  if (items) {
    const list = element("ul", { class: "tool-listing" });
    list.dataset.testid = "tool-listing";
    for (const item of items) list.append(element("li", { text: visible(item) }));
    body.append(list);
  } else if (typeof result.content === "string") {
    body.append(element("pre", { class: "tool-content", text: visible(result.content, { keepLines: true }) }));
  }
  const raw = element("details", { class: "tool-raw" });
  raw.append(
    element("summary", { text: "Result as the model read it" }),
    element("pre", { text: visible(JSON.stringify(result, null, 2), { keepLines: true }) }),
  );
  body.append(raw);
  return body;
}

// Images are shown only from the base64 the backend gave (size-capped there), as a data: URL
// of a raster type: never from an address, never SVG (it could hold script or fetch).
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function imageView(part) {
  const type = String(part.mime_type ?? "").toLowerCase();
  const data = typeof part.data === "string" ? part.data.replace(/\s+/g, "") : "";
  if (!IMAGE_TYPES.has(type) || !BASE64.test(data)) {
    return element("p", { class: "tool-said", text: `An image (${visible(type || "of no type")}) that is not shown: only PNG, JPEG, GIF and WebP are.` });
  }
  const image = element("img", {
    class: "tool-image", "data-testid": "tool-image", alt: `Image from the tool (${type}, ${count(Number(part.size) || 0, "byte")})`,
  });
  image.src = `data:${type};base64,${data}`;
  return image;
}

function linkView(part) {
  const uri = String(part.uri ?? "");
  const label = visible(part.title || part.name || uri);
  const line = element("li", { "data-testid": "tool-resource-link" });
  // A web address opens through the app's link handler (the browser, after asking); any
  // other scheme is the server's own name for something: shown, not opened.
  if (/^https?:\/\//i.test(uri)) {
    line.append(element("a", { href: uri, text: label, title: visible(uri), rel: "noreferrer" }));
  } else {
    line.append(element("span", { text: label }));
  }
  if (visible(uri) !== label) line.append(element("span", { class: "tool-args", text: ` ${visible(uri)}` }));
  if (part.description) line.append(element("span", { class: "tool-said", text: ` — ${visible(String(part.description))}` }));
  return line;
}

function partView(part) {
  switch (part?.type) {
    case "text":
      return element("pre", { class: "tool-content", text: visible(String(part.text ?? ""), { keepLines: true }) });
    case "image":
      return imageView(part);
    case "audio":
      return element("p", { class: "tool-said", text: `Audio (${visible(String(part.mime_type))}, ${count(Number(part.size) || 0, "byte")}): not played here.` });
    case "resource_link": {
      const list = element("ul", { class: "tool-parts" });
      list.append(linkView(part));
      return list;
    }
    case "resource":
      return typeof part.text === "string"
        ? element("pre", { class: "tool-content", text: visible(`${part.uri}\n${part.text}`, { keepLines: true }) })
        : element("p", { class: "tool-said", text: `A binary resource, ${visible(String(part.uri))}: not shown.` });
    case "omitted":
      return element("p", {
        class: "tool-said", "data-testid": "tool-omitted",
        text: `An ${visible(String(part.kind))} (${count(Number(part.size) || 0, "byte")}) left out: ${visible(String(part.reason))}.`,
      });
    default:
      return element("p", { class: "tool-said", text: "A part of the result this app does not show." });
  }
}

// What an MCP server returned, part by part in its order, then its structured content as
// JSON; which server said it, and whether it says the tool failed.
function shownView(call, shown) {
  const body = element("div", { class: "tool-result" });
  body.dataset.testid = "tool-result";
  const source = typeof shown.runs_on === "string" ? shown.runs_on : "another program";
  const note = element("p", {
    class: `tool-source${shown.is_error === true ? " server-error" : ""}`, "data-testid": "tool-source",
    text: shown.is_error === true ? `${visible(source)} says the tool failed:` : `From ${visible(source)} (what it did cannot be undone here)`,
  });
  body.append(note);
  for (const part of shown.content) body.append(partView(part));
  if (shown.structured !== null && shown.structured !== undefined) {
    const structured = element("details", { class: "tool-raw", open: "" });
    structured.append(
      element("summary", { text: "Structured content" }),
      element("pre", { class: "tool-structured", "data-testid": "tool-structured", text: visible(JSON.stringify(shown.structured, null, 2), { keepLines: true }) }),
    );
    body.append(structured);
  }
  if (call.error && shown.is_error !== true) body.append(errorView(call.error));
  if (call.result) {
    const raw = element("details", { class: "tool-raw" });
    raw.append(
      element("summary", { text: "Result as the model read it" }),
      element("pre", { text: visible(JSON.stringify(call.result, null, 2), { keepLines: true }) }),
    );
    body.append(raw);
  }
  return body;
}
