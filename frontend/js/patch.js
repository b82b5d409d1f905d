// Brings a drawn subtree up to date with a freshly built one by changing only what differs,
// so the window repaints only that. In the Qt window every repainted pixel costs CPU the
// local model's threads need (software compositing): a streaming paragraph that is replaced
// whole each frame repaints all its lines; one that gets its new words appended as a text node
// of their own repaints about one line (window_benchmark; tests/e2e: the streaming tests).

// Child nodes as they are read: consecutive text nodes (earlier appends) count as one run.
function runs(nodes) {
  const out = [];
  for (const node of nodes) {
    const last = out[out.length - 1];
    if (node.nodeType === Node.TEXT_NODE && last?.text !== undefined) {
      last.nodes.push(node);
      last.text += node.data;
    } else {
      out.push(node.nodeType === Node.TEXT_NODE ? { nodes: [node], text: node.data } : { nodes: [node] });
    }
  }
  return out;
}

// Whether the drawn `run` reads as `node` does (text split by earlier appends or not).
function same(run, node) {
  if (run.text !== undefined) return node.nodeType === Node.TEXT_NODE && node.data === run.text;
  const drawn = run.nodes[0];
  if (drawn.nodeType !== Node.ELEMENT_NODE) return drawn.isEqualNode(node);
  if (node.nodeType !== Node.ELEMENT_NODE || drawn.nodeName !== node.nodeName) return false;
  if (!sameAttributes(drawn, node)) return false;
  const children = runs(drawn.childNodes);
  return children.length === node.childNodes.length
    && children.every((child, index) => same(child, node.childNodes[index]));
}

function sameAttributes(a, b) {
  if (a.attributes.length !== b.attributes.length) return false;
  for (const { name, value } of a.attributes) {
    if (b.getAttribute(name) !== value) return false;
  }
  return true;
}

// Makes the drawn `run` show `node` where `node` only adds to it; false if it does more.
function grow(run, node, splitText) {
  if (run.text !== undefined) {
    if (!splitText || node.nodeType !== Node.TEXT_NODE || !node.data.startsWith(run.text)) return false;
    run.nodes[run.nodes.length - 1].after(node.data.slice(run.text.length));
    return true;
  }
  const drawn = run.nodes[0];
  if (drawn.nodeType !== Node.ELEMENT_NODE || drawn.nodeName !== node.nodeName) return false;
  if (!sameAttributes(drawn, node)) return false;
  patchChildren(drawn, [...node.childNodes]);
  return true;
}

/**
 * Make `parent`'s child nodes from index `start` on show the nodes `fresh` (which move into
 * it). What is equal stays; the first drawn node that differs grows in place when `fresh`
 * only extends it and the drawn nodes after it (marked ends each block with a newline) follow
 * it in `fresh` too; the rest is replaced. With `splitText` false, each node of `fresh` ends
 * up as exactly one child (a caller that counts children needs that); text below them may
 * still be split.
 */
export function patchChildren(parent, fresh, start = 0, { splitText = true } = {}) {
  const drawn = runs([...parent.childNodes].slice(start));
  let index = 0;
  while (index < drawn.length && index < fresh.length && same(drawn[index], fresh[index])) index += 1;
  const after = drawn.length - index - 1;
  const grows = index < drawn.length && index + after < fresh.length
    && drawn.slice(index + 1).every((run, offset) => same(run, fresh[index + 1 + offset]))
    && grow(drawn[index], fresh[index], splitText);
  if (grows) {
    index = drawn.length;
  } else {
    for (const run of drawn.slice(index)) {
      for (const node of run.nodes) node.remove();
    }
  }
  parent.append(...fresh.slice(index));
}
