"""Which base URLs a remote server may have, written one way, and which are unencrypted.

A base URL is the address the OpenAI paths hang off (``{base}/chat/completions``,
``{base}/models``). Accepted: http or https, a host, an optional port and path. Normalised:
scheme and host in lower case, no trailing slash; a URL with no path gets ``/v1`` (what
llama-server, vLLM, Ollama and LM Studio serve, so "http://localhost:11434" just works), and
a pasted endpoint (".../v1/chat/completions") is cut back to its base. Refused: other schemes,
user:password@ (the key has its own field, and would otherwise end up in logs), a query or a
fragment (paths are appended to the base, which a query would break).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

from localwork.errors import InvalidRequest

DEFAULT_API_PATH = "/v1"
_ENDPOINT_SUFFIXES = ("/chat/completions", "/models")


def normalise_base_url(url: str) -> str:
    """The base URL written the one way the engine uses it.

    Raises:
        InvalidRequest: not an http(s) URL with a host, or it carries credentials, a query
            or a fragment; the message says what to type instead.
    """
    text = url.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(
            f"{text!r} is not a server address. Type it as http://host:port/v1 or https://host/v1."
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest(
            "Leave the name and password out of the server address; put the API key in its "
            "own field."
        )
    if parts.query or parts.fragment:
        raise InvalidRequest(
            f"The server address cannot have a '?…' or '#…' part: type only "
            f"{scheme}://host:port/path."
        )
    try:
        port = parts.port
    except ValueError:
        raise InvalidRequest(f"{text!r} has a port that is not a number from 0 to 65535.") from None
    host = parts.hostname.lower()
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    if port is not None:
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    for suffix in _ENDPOINT_SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((scheme, netloc, path or DEFAULT_API_PATH, "", ""))


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine: "localhost" or a loopback IP literal. Names are not
    looked up: a name that merely resolves to 127.0.0.1 still counts as elsewhere."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def is_unencrypted_remote(base_url: str) -> bool:
    """Whether requests to ``base_url`` cross a network unencrypted (plain http to another
    machine), so that the prompts, replies and key can be read on the way: the UI warns.

    Raises:
        InvalidRequest: ``base_url`` is not accepted (``normalise_base_url``).
    """
    parts = urlsplit(normalise_base_url(base_url))
    return parts.scheme == "http" and not is_loopback_host(parts.hostname or "")
