// Tool calls recorded on a reply (meta.tool_calls: {tool, arguments, status, result}).
// A minimal rendering: the agent loop's tool cards replace this module with a richer one
// under the same export. Arguments and results are untrusted and set with textContent only.

function textBlock(label, value) {
  const block = document.createElement("div");
  block.className = "tool-part";
  const title = document.createElement("span");
  title.className = "tool-part-label";
  title.textContent = label;
  const body = document.createElement("pre");
  body.textContent = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  block.append(title, body);
  return block;
}

export function renderToolCards(container, toolCalls) {
  container.replaceChildren();
  for (const call of toolCalls) {
    const card = document.createElement("details");
    card.className = "tool-card";
    card.dataset.testid = "tool-card";
    const summary = document.createElement("summary");
    summary.textContent = `Tool ${call.tool ?? "?"}${call.status ? ` · ${call.status}` : ""}`;
    card.append(summary, textBlock("Arguments", call.arguments ?? {}), textBlock("Result", call.result ?? ""));
    container.append(card);
  }
}
