"""The user's locale as a BCP 47 tag, for the page: a web view may not know the system's."""

from __future__ import annotations

import locale
import os

_NO_LOCALE = {"", "C", "POSIX"}


def system_locale() -> str | None:
    """``de_DE.UTF-8`` → ``de-DE``; None when the system names none (C, POSIX)."""
    for name in ("LC_ALL", "LC_TIME", "LANG"):
        value = os.environ.get(name)
        if value:
            break
    else:  # macOS and Windows seldom set these: ask the C library
        value = locale.getlocale(locale.LC_TIME)[0] or ""
    tag = value.split(".")[0].split("@")[0].replace("_", "-")
    return None if tag in _NO_LOCALE else tag
