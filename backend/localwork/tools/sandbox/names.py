"""Names a tool may give to a new file or folder: none that hide or reorder what is shown.

``invoice\\u202etxt.desktop`` shows as ``invoicepotksed.txt`` (a right-to-left override), and
zero-width or control characters make two names look the same or split a line. New names
with such characters are refused; existing ones stay usable (to read, or rename to a clean
name), and messages show them escaped.
"""

from __future__ import annotations

import unicodedata

from localwork.errors import SandboxDenied
from localwork.tools.sandbox.fs import Located

# Control, format (bidi overrides, zero-width), surrogate (undecodable bytes), private use,
# line and paragraph separators.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
# Letters and symbols that draw as nothing (Hangul fillers, the blank Braille pattern).
_BLANK_GLYPHS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def is_hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES or char in _BLANK_GLYPHS


def escaped(text: str) -> str:
    """The text with each hidden character written as ``\\uXXXX``, so it can be seen."""
    return "".join(f"\\u{ord(char):04x}" if is_hidden(char) else char for char in text)


def check_new_name(located: Located) -> None:
    """Refuse to create ``located`` under a name with hidden characters.

    Raises:
        SandboxDenied: the last component has a control, format or blank character.
    """
    hidden = dict.fromkeys(f"U+{ord(char):04X}" for char in located.name if is_hidden(char))
    if hidden:
        raise SandboxDenied(
            f'the new name "{escaped(located.name)}" contains invisible or control characters '
            f"({', '.join(hidden)}), which would hide what it really is; choose a plain name"
        )
