// Small DOM helpers shared by the dialogs and the chat. Text only ever goes in as textContent.

export const byTestId = (root, testId) => root.querySelector(`[data-testid="${testId}"]`);

export function element(tag, className, text = "") {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

// A dialog's one-line status message, shown as an error or as plain news.
export function showMessage(line, text, error) {
  line.textContent = text;
  line.classList.toggle("error", error);
}
