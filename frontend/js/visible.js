// Characters that draw as nothing or reorder what follows (bidi overrides, zero-width and
// control characters): shown escaped, as \u202e, so a file name or a line of a diff cannot
// pretend to be something else ("invoice\u202etxt.desktop" would show as "invoicepotksed.txt").
// The same set the sandbox refuses in new names (backend/localwork/sandbox/names.py).
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0\u2800]/gu;

export function visible(text, { keepLines = false } = {}) {
  return String(text).replace(HIDDEN, (char) =>
    keepLines && (char === "\n" || char === "\t")
      ? char
      : `\\u${char.codePointAt(0).toString(16).padStart(4, "0")}`);
}
