// A reply's reasoning: what the model thought before it answered, in a fold above the answer
// ("Thinking…" while it comes, then "Thought for N s"), closed unless the user opens it. It is
// model output: set as textContent only, never parsed as markup or Markdown.

import { element } from "./dom.js";

export const THINKING = "Thinking…";

export function reasoningFold() {
  const fold = element("details", { class: "reasoning", "data-testid": "reasoning" });
  fold.hidden = true;
  fold.append(
    element("summary", { "data-testid": "reasoning-summary" }),
    element("div", { class: "reasoning-text", "data-testid": "reasoning-text" }),
  );
  return fold;
}

// "Thought for 4.2 s"; seconds may come from an imported file: only a number is shown.
export function thoughtFor(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "Thought";
  return `Thought for ${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
}

// Shows `text` in the reply's fold (none: the fold goes), under `summary`.
export function showReasoning(node, text, summary) {
  const fold = node.querySelector(".reasoning");
  if (!fold) return;
  fold.hidden = !text;
  const body = fold.querySelector(".reasoning-text");
  if (body.textContent !== text) body.textContent = text;
  const label = fold.querySelector("summary");
  if (label.textContent !== summary) label.textContent = summary;
}

// A stored reply's reasoning (meta.reasoning = {text, seconds}), closed.
export function showStoredReasoning(node, reasoning) {
  const text = typeof reasoning?.text === "string" ? reasoning.text : "";
  showReasoning(node, text, thoughtFor(reasoning?.seconds));
}
