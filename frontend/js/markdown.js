// Model output as Markdown, made safe. The text is untrusted: it may carry text planted in a
// file the model read. Three layers keep it inert:
//   1. marked renders raw HTML in the text as visible text, never as markup;
//   2. DOMPurify sanitizes the result into a DOM fragment (no string ever reaches innerHTML
//      in our code); its hooks drop remote images and every class but code languages;
//   3. the page's Content-Security-Policy forbids inline script and remote sources anyway.
// Links never navigate the window: interceptLinks() hands http(s) links to the backend,
// which opens them in the system browser.

import DOMPurify from "../vendor/dompurify-3.4.18.es.js";
import hljs from "../vendor/highlight-11.12.0.es.min.js";
import { Marked } from "../vendor/marked-18.2.1.esm.js";
import { element } from "./dom.js";
import { patchChildren } from "./patch.js";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => text.replace(/[&<>"']/g, (char) => ESCAPES[char]);

const parser = new Marked({
  gfm: true,
  breaks: true,
  renderer: { html: ({ text }) => escapeHtml(text) },
});

const PURIFY_CONFIG = {
  RETURN_DOM_FRAGMENT: true,
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object",
    "embed", "svg", "math", "video", "audio", "source", "picture", "link", "meta", "base"],
  FORBID_ATTR: ["style", "id", "name", "srcset", "target", "formaction", "background"],
};

const LANGUAGE_CLASS = /^language-[\w+#-]{1,40}$/;

DOMPurify.addHook("uponSanitizeAttribute", (node, data) => {
  // Only marked's code-language classes survive: a class could borrow the app's own styles.
  if (data.attrName === "class") {
    data.keepAttr = node.nodeName === "CODE" && LANGUAGE_CLASS.test(data.attrValue);
  }
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.nodeName === "IMG") {
    const source = node.getAttribute("src") ?? "";
    if (!source.startsWith("data:image/")) {
      // Loading it would tell a remote server that this reply was read.
      node.removeAttribute("src");
      node.dataset.blocked = "remote image not loaded";
      node.setAttribute("alt", `[image not loaded: ${node.getAttribute("alt") || source}]`);
    }
  }
  if (node.nodeName === "A") {
    node.setAttribute("rel", "noopener noreferrer");
    if (!node.hasAttribute("href")) node.title = "Link removed: only web links can be opened";
  }
});

// A blocked image becomes its description, instead of a broken-image box.
function describeBlockedImages(fragment) {
  for (const image of fragment.querySelectorAll("img[data-blocked]")) {
    image.replaceWith(element("span", {
      class: "blocked-image", "data-blocked": image.dataset.blocked, text: image.getAttribute("alt"),
    }));
  }
}

function copyText(text) {
  if (navigator.clipboard?.writeText) return navigator.clipboard.writeText(text);
  return Promise.reject(new Error("The clipboard is not available here."));
}

/** A small button that copies `getText()` and says so; used for code blocks and messages. */
export function copyButton(getText, label, testId) {
  const button = element("button", {
    type: "button", class: "copy-button", "aria-label": label, "data-testid": testId, text: "Copy",
  });
  button.addEventListener("click", async () => {
    try {
      await copyText(getText());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  return button;
}

function decorateCodeBlocks(fragment, highlightAll) {
  for (const code of fragment.querySelectorAll("pre > code")) {
    const pre = code.parentElement;
    const language = [...code.classList].find((name) => name.startsWith("language-"));
    // Guessing a language is costly: while streaming, only blocks that name one are coloured.
    if (language || highlightAll) hljs.highlightElement(code);
    const wrapper = element("div", { class: "code-block" });
    const bar = element("div", { class: "code-bar" });
    const name = element("span", { text: language ? language.slice("language-".length) : "code" });
    // marked ends every block with a newline; a copied snippet should not.
    // Read when clicked, from the block as drawn then: a streaming block grows in place.
    const copied = () => wrapper.querySelector("pre > code").textContent.replace(/\n$/, "");
    bar.append(name, copyButton(copied, "Copy code", "copy-code"));
    pre.replaceWith(wrapper);
    wrapper.append(bar, pre);
  }
}

function rendered(markdown, final) {
  const fragment = DOMPurify.sanitize(parser.parse(markdown, { async: false }), PURIFY_CONFIG);
  describeBlockedImages(fragment);
  decorateCodeBlocks(fragment, final);
  return fragment;
}

// While a reply streams, only its last block can still change (a paragraph grows, a list gets
// an item, a code fence closes): the blocks before it are drawn once and kept, and each frame
// brings the last one up to date in place (patch.js), so a growing paragraph gets only its
// new words drawn. Rebuilding the whole reply made every frame repaint all of it.
// container → { source: the kept blocks' Markdown, nodes: how many child nodes they made }
const kept = new WeakMap();

/**
 * Render untrusted Markdown into `container`, replacing what was there.
 * `final` is false while a reply streams in: no language guessing, and finished blocks stay.
 * The final render rebuilds the whole text, as a reload shows it.
 */
export function renderMarkdown(container, text, { final = true } = {}) {
  if (final) {
    kept.delete(container);
    container.replaceChildren(rendered(text, true));
    return;
  }
  let done = kept.get(container);
  if (!done || !text.startsWith(done.source) || container.childNodes.length < done.nodes) {
    done = { source: "", nodes: 0 }; // the text was not only extended: start again
    container.replaceChildren();
  }
  kept.set(container, done);
  const rest = text.slice(done.source.length);
  const blocks = parser.lexer(rest);
  let last = blocks.length - 1;
  while (last > 0 && blocks[last].type === "space") last -= 1;
  const finished = blocks.slice(0, Math.max(0, last)).map((block) => block.raw).join("");
  const fresh = [];
  let finishedNodes = 0;
  if (finished && rest.startsWith(finished)) { // else the lexer changed the text: keep nothing
    fresh.push(...rendered(finished, false).childNodes);
    finishedNodes = fresh.length;
    done.source += finished;
  }
  fresh.push(...rendered(text.slice(done.source.length), false).childNodes);
  // One child per fresh node, so the kept blocks' count stays true.
  patchChildren(container, fresh, done.nodes, { splitText: false });
  done.nodes += finishedNodes;
}

/** Clicks on links under `root` never navigate the window; http(s) links go to `open`. */
export function interceptLinks(root, open) {
  const handle = (event) => {
    const link = event.target.closest?.("a");
    if (!link || !root.contains(link)) return;
    event.preventDefault();
    if (event.type !== "click") return;
    const href = link.getAttribute("href") ?? "";
    if (/^https?:\/\//i.test(href)) open(href);
  };
  root.addEventListener("click", handle);
  root.addEventListener("auxclick", handle);
}
