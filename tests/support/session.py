"""A client's side of the ``--serve`` credential flow (``transports/credentials.py``), for tests."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit


def session_cookie(address: str) -> str:
    """Open the printed address as a browser does; returns the ``Cookie`` header to send."""
    parts = urlsplit(address)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    if response.status != 303 or not response.getheader("Set-Cookie"):
        raise AssertionError(f"{address} gave {response.status}, not a session")
    return response.getheader("Set-Cookie").split(";", 1)[0]
