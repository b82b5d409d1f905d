"""A remote server as the engine reaches it: its base URL, its API key, how long to wait, and
the HTTP client every request to it goes through.

Every request gets a client of its own with one connection (``cancel.py`` needs the sockets
to be that request's), no redirects followed (the key goes only to the address the user
typed; a redirect is reported instead, ``failures.py``), and the key in an ``Authorization``
header only when there is one.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass, field

import httpx2

from localwork.engine.remote.address import normalise_base_url
from localwork.engine.remote.cancel import CancelSwitch
from localwork.errors import InvalidRequest

USER_AGENT = "localwork-hero"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait. ``read`` is the longest silence: before the reply starts (a slow
    server reading a long prompt) and between two chunks of it; keep-alive comments count as
    sound. A dead server therefore ends a request after at most connect + read seconds."""

    connect: float = 10.0
    read: float = 120.0
    write: float = 30.0

    def for_httpx(self) -> httpx2.Timeout:
        return httpx2.Timeout(
            connect=self.connect, read=self.read, write=self.write, pool=self.connect
        )


@dataclass(frozen=True)
class RemoteServer:
    """Where an OpenAI-compatible server is, and its key. ``base_url`` is normalised on
    creation (``address.normalise_base_url``); the key is kept out of ``repr`` and logs.

    Raises:
        InvalidRequest: the base URL is not accepted, or the key cannot go in a header.
    """

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        key = (self.api_key or "").strip() or None
        if key is not None and not _fits_in_a_header(key):
            raise InvalidRequest(
                "The API key has a character that cannot be sent (a line break, or one "
                "outside Latin-1). Copy it again from the provider."
            )
        object.__setattr__(self, "api_key", key)

    def url(self, path: str) -> str:
        """``path`` ("/chat/completions") under the base URL."""
        return self.base_url + path

    def open_client(self) -> httpx2.Client:
        """An HTTP client for one request to this server (close it after)."""
        headers = {"User-Agent": USER_AGENT}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return httpx2.Client(
            headers=headers,
            verify=_tls_context(),
            timeout=self.timeouts.for_httpx(),
            follow_redirects=False,
            limits=httpx2.Limits(max_connections=1, max_keepalive_connections=0),
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every request, made the way httpx makes its default: building one
    (loading the CA bundle) took 25 ms, which every reply's first token waited for
    (``tests/benchmarks/remote_benchmark.py``)."""
    return httpx2.create_ssl_context()


def trace_extensions(switch: CancelSwitch) -> dict[str, object]:
    """The request extensions that let ``switch`` find the request's sockets."""
    return {"trace": switch.trace}


def _fits_in_a_header(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return not any(character in value for character in "\r\n\0")
