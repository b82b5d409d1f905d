"""What went wrong with a remote server, as the coded errors of ``localwork.errors``.

Three sources: an HTTP answer that is not a reply (its status, and the server's own words
from its body, JSON or not: a proxy's HTML page, a plain "Internal Server Error"), a
transport error from httpx (by type, never by message text), and an ``error`` object the
server put in the stream. The words say what happened and what to do next; a failure after
the reply began keeps what it wrote (``RemoteStreamDropped``).
"""

from __future__ import annotations

import email.utils
import html
import json
import re
import socket
import ssl
import time

import httpx2

from localwork.engine.remote.connection import RemoteServer
from localwork.errors import (
    RemoteAuthFailed,
    RemoteBadResponse,
    RemoteError,
    RemoteModelNotFound,
    RemoteRateLimited,
    RemoteRedirected,
    RemoteServerError,
    RemoteStreamDropped,
    RemoteTimeout,
    RemoteUnreachable,
    TimeoutPhase,
)

ERROR_BODY_LIMIT = 64 * 1024  # an error page is read this far, never more
_WORDS_LIMIT = 300
_CHECK_BASE_URL = "Check the base URL: it is the server's API address, usually ending in /v1."
_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def read_error_body(response: httpx2.Response) -> bytes:
    """The start of an error answer's body (the stream is left to be closed)."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= ERROR_BODY_LIMIT:
            break
    return bytes(body[:ERROR_BODY_LIMIT])


def server_words(body: bytes) -> str:
    """The server's own explanation in an error body, shortened; "" when it gave none."""
    text = body.decode("utf-8", "replace").strip()
    try:
        found = _message_in(json.loads(text))
    except ValueError:
        found = None
    if found is None and "<" in text:  # an HTML page: its title, or its text
        title = _TITLE.search(text)
        found = title.group(1) if title else _TAG.sub(" ", text)
    return _shorten(html.unescape(found if found is not None else text))


def error_for_status(
    server: RemoteServer, response: httpx2.Response, body: bytes, *, model: str | None
) -> RemoteError:
    """The error for an HTTP answer that is not a reply (any status but 200)."""
    status = response.status_code
    words = server_words(body)
    said = f": {words}" if words else ""
    base = server.base_url
    if 300 <= status < 400:
        location = response.headers.get("location")
        target = str(response.url.join(location)) if location else None
        return RemoteRedirected(
            f"{base} answered with a redirect ({status}) to {target or 'another address'}. "
            "Redirects are not followed, so that the key only goes where you said: if that "
            "address is the server's, type it as the base URL.",
            url=base,
            status=status,
            location=target,
        )
    if status == 401:
        problem = "needs an API key" if server.api_key is None else "refused the API key"
        return RemoteAuthFailed(
            f"{base} {problem} (401{said}). Type the key in the server's settings.",
            url=base,
            status=status,
        )
    if status == 403:
        return RemoteAuthFailed(
            f"{base} does not allow this request (403{said}). Check that the key may use "
            "this model.",
            url=base,
            status=status,
        )
    if status == 404:
        missing = f"has no model {model!r}" if model else "has no such address"
        return RemoteModelNotFound(
            f"{base} {missing} (404{said}). Check the model id (the server's list shows the "
            f"ids it has). {_CHECK_BASE_URL}",
            url=base,
            status=status,
        )
    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        wait = f"{retry_after:.0f} seconds" if retry_after is not None else "a moment"
        return RemoteRateLimited(
            f"{base} is limiting requests (429{said}). Wait {wait} and try again.",
            url=base,
            status=status,
            retry_after=retry_after,
        )
    if status >= 500:
        return RemoteServerError(
            f"{base} had an error ({status}{said}). Try again; if it keeps failing, the "
            "server's log says why.",
            url=base,
            status=status,
        )
    return RemoteError(f"{base} refused the request ({status}{said}).", url=base, status=status)


def error_for_transport(
    server: RemoteServer,
    error: httpx2.TransportError,
    *,
    replying: bool,
    partial_text: str = "",
    partial_reasoning: str = "",
) -> RemoteError:
    """The error for a failed connection; ``replying``: the reply had begun streaming."""
    base, timeouts = server.base_url, server.timeouts
    if replying:
        if isinstance(error, httpx2.TimeoutException):
            what = f"{base} stopped sending for {timeouts.read:g} s in the middle of the reply"
        else:
            what = f"The connection to {base} dropped in the middle of the reply"
        return dropped(server, f"{what}.", partial_text, partial_reasoning)
    if isinstance(error, httpx2.ConnectTimeout):
        return _timed_out(server, "connect", timeouts.connect)
    if isinstance(error, httpx2.TimeoutException):
        return _timed_out(server, "read", timeouts.read)
    if isinstance(error, httpx2.ConnectError):
        return RemoteUnreachable(
            f"Cannot reach {base}: {_connect_failure(error)}. Check the address and that the "
            "server is running.",
            url=base,
        )
    return bad_response(server, "it closed the connection without an HTTP answer")


def error_for_event(
    server: RemoteServer, error: object, *, partial_text: str, partial_reasoning: str
) -> RemoteError:
    """The error for an ``error`` object in the stream."""
    words = _shorten(_message_in(error) or str(error))
    if partial_text or partial_reasoning:
        return dropped(
            server,
            f"{server.base_url} stopped the reply with an error: {words}.",
            partial_text,
            partial_reasoning,
        )
    code = error.get("code") if isinstance(error, dict) else None
    return RemoteServerError(
        f"{server.base_url} sent an error instead of a reply: {words}. Try again; if it keeps "
        "failing, the server's log says why.",
        url=server.base_url,
        status=code if isinstance(code, int) else None,
    )


def dropped(
    server: RemoteServer, what: str, partial_text: str, partial_reasoning: str
) -> RemoteStreamDropped:
    return RemoteStreamDropped(
        f"{what} What it wrote so far is kept; try again for a whole reply.",
        url=server.base_url,
        partial_text=partial_text,
        partial_reasoning=partial_reasoning,
    )


def bad_response(server: RemoteServer, detail: str) -> RemoteBadResponse:
    return RemoteBadResponse(
        f"{server.base_url} did not answer like an OpenAI-compatible server ({detail}). "
        f"{_CHECK_BASE_URL}",
        url=server.base_url,
    )


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds, or an HTTP date from now."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


_TIMEOUT_WORDS: dict[TimeoutPhase, str] = {
    "connect": "did not accept a connection within {seconds:g} s. Check the address, and that "
    "the network reaches it.",
    "read": "accepted the connection but did not answer within {seconds:g} s. It may be busy "
    "or stuck: try again, or give it longer to answer.",
}


def _timed_out(server: RemoteServer, phase: TimeoutPhase, seconds: float) -> RemoteTimeout:
    return RemoteTimeout(
        f"{server.base_url} {_TIMEOUT_WORDS[phase].format(seconds=seconds)}",
        url=server.base_url,
        phase=phase,
        seconds=seconds,
    )


def _connect_failure(error: BaseException) -> str:
    """Why a connection failed, from the OS or TLS error under httpx's."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"its certificate is not trusted ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return "the secure connection failed (does it want http rather than https?)"
        if isinstance(cause, socket.gaierror):
            return "no computer has that name"
        if isinstance(cause, ConnectionRefusedError):
            return "nothing is listening on that port"
        cause = cause.__cause__ or cause.__context__
    return "the connection failed"


def _message_in(value: object) -> str | None:
    """The message in an error object, in the shapes servers use: OpenAI's
    ``{"error": {"message"}}``, ``{"error": "..."}``, ``{"detail": ...}``, a list of those."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in ("error", "message", "detail", "msg"):
            found = _message_in(value.get(key))
            if found:
                return found
    if isinstance(value, list) and value:
        return _message_in(value[0])
    return None


def _shorten(text: str) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text if len(text) <= _WORDS_LIMIT else text[: _WORDS_LIMIT - 1] + "…"
