"""Opening a link from a reply in the system browser, never inside the app's window.

Only absolute http(s) URLs are opened. Python's ``webbrowser`` honours the ``BROWSER``
environment variable, which is how tests observe a click without starting a browser.
"""

from __future__ import annotations

import logging
import webbrowser
from urllib.parse import urlsplit

from localwork.errors import InvalidRequest

log = logging.getLogger(__name__)

MAX_URL_CHARS = 4096


def check_link(url: str) -> str:
    """Return the URL if it is safe to hand to the system browser.

    Raises:
        InvalidRequest: not an absolute http(s) URL with a host, or too long.
    """
    if len(url) > MAX_URL_CHARS:
        raise InvalidRequest(f"The link is longer than {MAX_URL_CHARS} characters.")
    # Control characters could smuggle a second argument to the browser's command line.
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        raise InvalidRequest("The link contains spaces or control characters; not opened.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("Only http and https links open in the browser; this one was not.")
    return url


def open_in_browser(url: str) -> bool:
    """Open the link in the user's browser; returns whether a browser accepted it.

    Raises:
        InvalidRequest: see ``check_link``.
    """
    checked = check_link(url)
    log.info("opening a link in the system browser: %s", checked)
    return webbrowser.open(checked, new=2)
