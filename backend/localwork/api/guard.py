"""What every request to the local API passes before an endpoint sees it.

- **Host**: on loopback, only ``127.0.0.1``/``localhost``/``[::1]`` at the server's port, so a
  web page that rebinds its own name to 127.0.0.1 (DNS rebinding) is refused.
- **Origin**: a browser's request (it has an ``Origin``) only from an origin the user listed;
  CORS headers name that origin only, never ``*``. No origins listed: no browser may call.
- **Key**: ``Authorization: Bearer KEY`` or ``x-api-key: KEY``, compared in constant time.
- **Size**: a ``Content-Length`` over ``MAX_BODY_BYTES`` is refused before the body is read
  (a body without one is cut off at that size as it is read, in ``routes.py``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from localwork.api.wire import MAX_BODY_BYTES, ApiError, Shape

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_CORS_METHODS = "GET, POST, OPTIONS"
_CORS_HEADERS = "authorization, content-type, x-api-key, anthropic-version, openai-organization"


@dataclass(frozen=True)
class Rules:
    key: str
    port: int  # the port the server listens on (a Host must name it)
    lan: bool  # any Host is accepted (the key is still required)
    origins: tuple[str, ...]


def shape_of(path: str) -> Shape:
    return "anthropic" if path.startswith("/v1/messages") else "openai"


async def send_error(
    send: Send, error: ApiError, shape: Shape, extra: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(error.body(shape)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers + extra})
    await send({"type": "http.response.body", "body": body})


# Told of each request the guard refuses (scope, status), for the API log.
RefusalReport = Callable[[Scope, int], None]


class Guard:
    """ASGI middleware applying ``Rules`` (read for each request: they change at run time).
    ``on_refused`` hears each refusal, so that the log shows the requests no endpoint saw."""

    def __init__(
        self, app: ASGIApp, rules: Callable[[], Rules], on_refused: RefusalReport | None = None
    ) -> None:
        self._app = app
        self._rules = rules
        self._on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        rules = self._rules()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        shape = shape_of(scope["path"])
        origin = headers.get("origin")
        cors: list[tuple[bytes, bytes]] = []
        if origin is not None and origin in rules.origins:
            cors = [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"vary", b"Origin"),
            ]
        refusal = self._refusal(rules, headers, origin, scope["method"])
        if refusal is not None:
            # Logged first: a client that has its answer finds the refusal in the log.
            if self._on_refused is not None:
                self._on_refused(scope, refusal.status)
            await send_error(send, refusal, shape, cors)
            return
        if scope["method"] == "OPTIONS" and origin is not None:  # an allowed preflight
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        *cors,
                        (b"access-control-allow-methods", _CORS_METHODS.encode()),
                        (b"access-control-allow-headers", _CORS_HEADERS.encode()),
                        (b"access-control-max-age", b"600"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and cors:
                message = {**message, "headers": [*message.get("headers", []), *cors]}
            await send(message)

        await self._app(scope, receive, send_with_cors)

    def _refusal(
        self, rules: Rules, headers: dict[str, str], origin: str | None, method: str
    ) -> ApiError | None:
        host = headers.get("host", "")
        allowed_hosts = {f"{name}:{rules.port}" for name in _LOOPBACK_NAMES}
        if not rules.lan and host.lower() not in allowed_hosts:
            return ApiError(
                403, f"Host {host!r} is not this server's address (127.0.0.1:{rules.port})."
            )
        if origin is not None and origin not in rules.origins:
            return ApiError(
                403,
                f"Requests from the web page {origin!r} are not allowed; list it under "
                "Settings, Local API, allowed origins.",
            )
        if method == "OPTIONS":
            return None
        authorization = headers.get("authorization", "")
        given = [headers.get("x-api-key", "").strip()]
        if authorization[:7].lower() == "bearer ":
            given.append(authorization[7:].strip())
        given = [key for key in given if key]
        if not given:
            return ApiError(
                401,
                "An API key is needed: send it as 'Authorization: Bearer KEY' or 'x-api-key'.",
                code="invalid_api_key",
            )
        if not any(hmac.compare_digest(key.encode(), rules.key.encode()) for key in given):
            return ApiError(401, "The API key is not this server's.", code="invalid_api_key")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return ApiError(
                413, f"The request body is over the limit of {MAX_BODY_BYTES // 2**20} MiB."
            )
        return None
