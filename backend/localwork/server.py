"""``--serve``: the same frontend and bridge over loopback HTTP, for a browser.

Defences (see ../shared/anchors/security.md): bound to 127.0.0.1 only; a per-launch secret
token required on every API call, compared in constant time and never put in a URL or
cookie; exact Host check against DNS rebinding; exact Origin check; JSON content type only
(so cross-site forms cannot post); request size capped; one allowlist of methods.
"""

from __future__ import annotations

import hmac
import json
import logging
import mimetypes
import secrets
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from localwork.bridge import Bridge, dispatch

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-LocalWork-Token"
TOKEN_PLACEHOLDER = '<meta name="localwork-token" content="">'
MAX_BODY_BYTES = 8 * 1024 * 1024
_API_PREFIX = "/api/"
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class BridgeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, bridge: Bridge, frontend: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.bridge = bridge
        self.frontend = frontend.resolve()
        self.token = secrets.token_urlsafe(32)
        bound_port = self.server_address[1]
        self.allowed_hosts = {f"127.0.0.1:{bound_port}", f"localhost:{bound_port}"}
        self.allowed_origins = {f"http://{host}" for host in self.allowed_hosts}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints every handler error's traceback to stderr; they go to the log.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):  # a tab closed mid-reply, e.g. in a long-poll
            log.debug("client %s went away: %r", client_address, error)
        else:
            log.error("error while serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: BridgeServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a kept-alive connection
    # waits for the peer's delayed ACK (~40 ms) before sending the body of every reply.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)

    # --- routing ----------------------------------------------------------------------------
    def do_GET(self) -> None:
        if not self._host_allowed():
            return
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send_index()
        elif path.startswith(_API_PREFIX):
            self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "use POST"})
        else:
            self._send_static(path)

    def do_POST(self) -> None:
        if not self._host_allowed():
            return
        path = self.path.split("?", 1)[0]
        if not path.startswith(_API_PREFIX):
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        refusal = self._api_refusal()
        if refusal:
            status, reason = refusal
            self._send_json(status, {"error": reason})
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            params = json.loads(self.rfile.read(length) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "body is not JSON"})
            return
        method = path[len(_API_PREFIX) :]
        self._send_json(HTTPStatus.OK, dispatch(self.server.bridge, method, params))

    def do_PUT(self) -> None:
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "method not allowed"})

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    # --- checks -------------------------------------------------------------------------------
    def _host_allowed(self) -> bool:
        if self.headers.get("Host") in self.server.allowed_hosts:
            return True
        self._send_json(HTTPStatus.MISDIRECTED_REQUEST, {"error": "unexpected Host header"})
        return False

    def _api_refusal(self) -> tuple[HTTPStatus, str] | None:
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.allowed_origins:
            return HTTPStatus.FORBIDDEN, "origin not allowed"
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json"
        token = self.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(token.encode(), self.server.token.encode()):
            return HTTPStatus.UNAUTHORIZED, "missing or wrong token"
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return HTTPStatus.BAD_REQUEST, "bad Content-Length"
        if length > MAX_BODY_BYTES:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large"
        return None

    # --- responses ----------------------------------------------------------------------------
    def _send_index(self) -> None:
        html = (self.server.frontend / "index.html").read_text("utf-8")
        token_meta = f'<meta name="localwork-token" content="{self.server.token}">'
        page = html.replace(TOKEN_PLACEHOLDER, token_meta).encode()
        self._send_bytes(HTTPStatus.OK, page, "text/html; charset=utf-8")

    def _send_static(self, url_path: str) -> None:
        target = (self.server.frontend / url_path.lstrip("/")).resolve()
        if not target.is_relative_to(self.server.frontend) or not target.is_file():
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".js":
            content_type = "text/javascript"
        self._send_bytes(HTTPStatus.OK, target.read_bytes(), content_type)

    def _send_json(self, status: HTTPStatus, payload: Any) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json")

    def _send_bytes(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        if status >= HTTPStatus.BAD_REQUEST:
            # The body of a refused request may be unread: never reuse this connection.
            self.close_connection = True
            self.send_header("Connection", "close")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in _SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
