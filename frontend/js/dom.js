// Small DOM helpers shared by the dialogs and the chat. Text only ever goes in as textContent.

export const byTestId = (root, testId) => root.querySelector(`[data-testid="${testId}"]`);

// A new element: `class` is its class (none when empty), `text` its text (set as textContent,
// never parsed), and every other key an attribute. The app's one way to build an element:
//   element("p", { class: "field-help", text: help })
//   element("button", { type: "button", "data-testid": "retry-button", text: "Retry" })
export function element(tag, { class: className = "", text = "", ...attributes } = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  if (text) node.textContent = text;
  return node;
}

// A dialog's one-line status message, shown as an error or as plain news.
export function showMessage(line, text, error) {
  line.textContent = text;
  line.classList.toggle("error", error);
}

// Dates in the user's own locale: the system's, which the backend reports (a web view may
// not know it), else the page's. Unambiguous: "1 Dec 2026, 11:04", never "12/1/2026".
let locales = [];

export function setLocale(tag) {
  try {
    locales = tag ? Intl.getCanonicalLocales(tag) : [];
  } catch {
    locales = []; // not a language tag this browser knows: the page's own locale
  }
}

export function formatDate(seconds) {
  const options = { dateStyle: "medium", timeStyle: "short" };
  return new Intl.DateTimeFormat([...locales, ...navigator.languages], options).format(new Date(seconds * 1000));
}

// A time of day in the user's locale, to the second: "20:41:07" (the date in its title).
export function formatTime(seconds) {
  const options = { timeStyle: "medium" };
  return new Intl.DateTimeFormat([...locales, ...navigator.languages], options).format(new Date(seconds * 1000));
}
