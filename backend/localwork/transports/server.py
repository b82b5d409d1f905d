"""``--serve``: the same frontend and bridge over loopback HTTP, for a browser.

Defences (see ../shared/anchors/security.md): bound to 127.0.0.1 only; the page and every API
call need the launch's session cookie, which only the printed address (with its per-launch
secret) hands out (``credentials.py``); exact Host check against DNS rebinding; exact Origin
check; JSON content type only (so cross-site forms cannot post); request size capped, and a
body's length must be given and sane; one allowlist of methods.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from localwork.errors import InvalidRequest
from localwork.transports.bridge import Bridge
from localwork.transports.credentials import LaunchCredentials

log = logging.getLogger(__name__)

# The served page says it is served (the window's copy has no such tag and uses js_api).
TRANSPORT_PLACEHOLDER = '<meta name="localwork-transport" content="">'
TRANSPORT_META = '<meta name="localwork-transport" content="http">'
MAX_BODY_BYTES = 8 * 1024 * 1024
_API_PREFIX = "/api/"
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}

_NO_SESSION = (
    b"LocalWork Hero: this address needs the secret that `localwork-hero --serve` printed.\n"
    b"Open the full address it printed (http://127.0.0.1:PORT/?token=...).\n"
)


class BridgeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, bridge: Bridge, frontend: Path, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.bridge = bridge
        self.frontend = frontend.resolve()
        bound_port = self.server_address[1]
        self.credentials = LaunchCredentials(bound_port)
        self.allowed_hosts = {f"127.0.0.1:{bound_port}", f"localhost:{bound_port}"}
        self.allowed_origins = {f"http://{host}" for host in self.allowed_hosts}

    @property
    def url(self) -> str:
        """The bare address: it serves nothing but the static files without a session."""
        return f"http://127.0.0.1:{self.server_address[1]}/"

    @property
    def address(self) -> str:
        """The address to open (and print): the bare one with the launch secret."""
        return self.credentials.address(self.url)

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
        path, _, query = self.path.partition("?")
        if path in ("/", "/index.html"):
            self._send_index(query)
        elif path.startswith(_API_PREFIX):
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, "Use POST.")
        else:
            self._send_static(path)

    def do_POST(self) -> None:
        if not self._host_allowed():
            return
        path = self.path.split("?", 1)[0]
        if not path.startswith(_API_PREFIX):
            self._refuse(HTTPStatus.NOT_FOUND, "Not found.")
            return
        refusal = self._api_refusal()
        if refusal:
            self._refuse(*refusal)
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            params = json.loads(self.rfile.read(length) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._refuse(HTTPStatus.BAD_REQUEST, "The body is not JSON.")
            return
        except RecursionError:
            # CPython's decoder stops at its recursion limit: refused, connection kept sane.
            self._refuse(HTTPStatus.BAD_REQUEST, "The JSON body is nested too deeply.")
            return
        method = path[len(_API_PREFIX) :]
        self._send_json(HTTPStatus.OK, self.server.bridge.dispatch(method, params))

    def do_PUT(self) -> None:
        self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, "Method not allowed.")

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    # --- checks -------------------------------------------------------------------------------
    def _host_allowed(self) -> bool:
        if self.headers.get("Host") in self.server.allowed_hosts:
            return True
        self._refuse(HTTPStatus.MISDIRECTED_REQUEST, "Unexpected Host header.")
        return False

    def _api_refusal(self) -> tuple[HTTPStatus, str] | None:
        origin = self.headers.get("Origin")
        if origin is not None and origin not in self.server.allowed_origins:
            return HTTPStatus.FORBIDDEN, "origin not allowed"
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json"
        if not self.server.credentials.has_session(self.headers.get("Cookie")):
            return HTTPStatus.UNAUTHORIZED, "No session: open the address --serve printed."
        if self.headers.get("Transfer-Encoding") is not None:
            return HTTPStatus.LENGTH_REQUIRED, "Send the body with a Content-Length."
        # Digits only: int() would take "-1" (read until the client closes) or "+1_0".
        length = self.headers.get("Content-Length") or "0"
        if not (length.isascii() and length.isdigit()):
            return HTTPStatus.BAD_REQUEST, "Content-Length must be a number of bytes."
        if int(length) > MAX_BODY_BYTES:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The request is too large."
        return None

    # --- responses ----------------------------------------------------------------------------
    def _send_index(self, query: str) -> None:
        credentials = self.server.credentials
        if query:
            cookie = credentials.exchange(query)
            if cookie is None:
                self._send_bytes(HTTPStatus.UNAUTHORIZED, _NO_SESSION, "text/plain; charset=utf-8")
                return
            # The secret leaves the address bar at once: the page is always the bare address.
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Set-Cookie", cookie)
            self.send_header("Location", "/")
            self._finish_headers(0, "text/plain")
            return
        if not credentials.has_session(self.headers.get("Cookie")):
            self._send_bytes(HTTPStatus.UNAUTHORIZED, _NO_SESSION, "text/plain; charset=utf-8")
            return
        html = (self.server.frontend / "index.html").read_text("utf-8")
        page = html.replace(TRANSPORT_PLACEHOLDER, TRANSPORT_META).encode()
        self._send_bytes(HTTPStatus.OK, page, "text/html; charset=utf-8")

    def _send_static(self, url_path: str) -> None:
        target = (self.server.frontend / url_path.lstrip("/")).resolve()
        if not target.is_relative_to(self.server.frontend) or not target.is_file():
            self._refuse(HTTPStatus.NOT_FOUND, "Not found.")
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if target.suffix == ".js":
            content_type = "text/javascript"
        self._send_bytes(HTTPStatus.OK, target.read_bytes(), content_type)

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        """A refused request, in the bridge's own reply shape."""
        self._send_json(status, {"ok": False, "error": InvalidRequest(message).to_dict()})

    def _send_json(self, status: HTTPStatus, payload: Any) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json")

    def _send_bytes(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        if status >= HTTPStatus.BAD_REQUEST:
            # The body of a refused request may be unread: never reuse this connection.
            self.close_connection = True
            self.send_header("Connection", "close")
        self._finish_headers(len(body), content_type)
        self.wfile.write(body)

    def _finish_headers(self, length: int, content_type: str) -> None:
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in _SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
