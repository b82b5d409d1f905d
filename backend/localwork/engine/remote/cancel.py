"""Stopping a request from another thread, at once, whatever it is waiting for.

Closing an httpx response from another thread does not wake the thread blocked reading it:
on Linux, closing a socket leaves a ``poll`` in another thread waiting until its timeout.
Shutting the socket down does wake it (the read returns at once) and tells the server too.
So each request records its sockets as httpx opens them, through httpx's ``trace`` request
extension (the plain TCP socket, then the TLS one that replaces it), and ``cancel`` shuts
them down. A request gets a connection of its own (``connection.py``), so the sockets
recorded are this request's only.

A cancel while the TCP connection is still being opened takes effect when it opens (or the
connect timeout ends it): ``connect`` cannot be interrupted.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

# The trace events whose ``return_value`` is the network stream a connection now uses.
_STREAM_OPENED = ("connection.connect_tcp.complete", "connection.start_tls.complete")


class CancelSwitch:
    """One request's off switch: pass ``trace`` as the request's ``trace`` extension, and
    call ``cancel`` from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cancelled = False

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut_down(sock)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's trace hook; it runs on the requesting thread."""
        if event not in _STREAM_OPENED:
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            cancelled = self._cancelled
        if cancelled:  # cancelled while connecting
            _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    # The plain socket's shutdown, also for a TLS socket: SSLSocket.shutdown would drop its
    # TLS state under the feet of the thread reading it.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
