"""Who may use the bridge over loopback HTTP: whoever holds the address that was printed.

Any local process (or other OS user) can reach 127.0.0.1, so the page itself is no secret.
Each launch makes two random values:

- the *launch secret*, carried only in the address that is printed (``?token=…``,
  Jupyter-style). A request for the page with it is answered by a redirect to the bare
  address that sets
- the *session* cookie: ``HttpOnly`` (script in the page cannot read it), ``SameSite=Strict``
  (no other site's page makes the browser send it), ``Path=/``, no expiry (gone when the
  browser closes). Its name carries the port, so two launches do not overwrite each other.

The page and every API call need the session; a bare ``GET /`` gets neither page nor token.
The secret is valid for the whole launch, so the printed address can be opened again (a
second browser, a restarted one). Any transport that serves the page over HTTP (``--serve``,
or the desktop window if it loads its page from a loopback server) uses this one class:

    credentials = LaunchCredentials(port)
    credentials.address("http://127.0.0.1:PORT/")  # the address to open or print
    credentials.exchange(query)       # Set-Cookie value when the query holds the secret
    credentials.has_session(cookies)  # the request's Cookie header carries the session
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

SECRET_PARAMETER = "token"


class LaunchCredentials:
    def __init__(self, port: int) -> None:
        self._secret = secrets.token_urlsafe(32)
        self._session = secrets.token_urlsafe(32)
        self.cookie_name = f"localwork-session-{port}"

    def address(self, base_url: str) -> str:
        """The address to open: ``base_url`` with the launch secret in its query."""
        return f"{base_url}?{SECRET_PARAMETER}={self._secret}"

    def exchange(self, query: str) -> str | None:
        """The ``Set-Cookie`` value for a request whose query holds the secret, else ``None``."""
        offered = parse_qs(query, max_num_fields=10).get(SECRET_PARAMETER, [""])[0]
        if not _same(offered, self._secret):
            return None
        return f"{self.cookie_name}={self._session}; HttpOnly; SameSite=Strict; Path=/"

    def has_session(self, cookie_header: str | None) -> bool:
        """Whether a request's ``Cookie`` header carries this launch's session."""
        # Parsed by hand: other loopback apps' cookies come along (cookies ignore the port),
        # and one malformed cookie of theirs must not hide ours.
        for pair in (cookie_header or "").split(";"):
            name, _, value = pair.strip().partition("=")
            if name == self.cookie_name and _same(value, self._session):
                return True
        return False


def _same(offered: str, expected: str) -> bool:
    # Constant time, so the secret cannot be guessed byte by byte from response timing.
    return hmac.compare_digest(offered.encode(), expected.encode())
