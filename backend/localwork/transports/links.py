"""Opening a link from a reply in the system browser, never inside the app's window.

Only absolute http(s) URLs to other machines are opened. A link to this computer (localhost,
any 127.x address however a browser spells it, ``::1``, ``0.0.0.0``, the machine's own name)
is refused: a reply could use one to reach the app's own page or another local service with
the user's browser. Python's ``webbrowser`` honours the ``BROWSER``
environment variable, which is how tests observe a click without starting a browser.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import webbrowser
from urllib.parse import urlsplit

from localwork.errors import InvalidRequest

log = logging.getLogger(__name__)

MAX_URL_CHARS = 4096
_IPV4_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


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
    if _is_this_computer(parts.hostname):
        raise InvalidRequest(
            "Links to this computer (localhost, 127.0.0.1) are not opened: a reply could use "
            "them to reach this app or other programs running here."
        )
    return url


def _is_this_computer(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost") or host == socket.gethostname().lower():
        return True
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = _browser_ipv4(host)
    if address is None:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _browser_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a browser reads in a numeric host: ``127.1``, ``0x7f.0.0.1``, ``2130706433``
    and ``0177.0.0.1`` are all 127.0.0.1 to it (the WHATWG URL standard's IPv4 parser)."""
    labels = host.split(".")
    if len(labels) > 4 or not all(_IPV4_PART.match(label) for label in labels):
        return None
    numbers = []
    for label in labels:
        if label[:2].lower() == "0x":
            numbers.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            if not set(label) <= set("01234567"):
                return None
            numbers.append(int(label, 8))
        else:
            numbers.append(int(label))
    *front, last = numbers
    if any(number > 255 for number in front) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last + sum(number << (8 * (3 - index)) for index, number in enumerate(front))
    return ipaddress.IPv4Address(value)


def open_in_browser(url: str) -> bool:
    """Open the link in the user's browser; returns whether a browser accepted it.

    Raises:
        InvalidRequest: see ``check_link``.
    """
    checked = check_link(url)
    log.info("opening a link in the system browser: %s", checked)
    return webbrowser.open(checked, new=2)
