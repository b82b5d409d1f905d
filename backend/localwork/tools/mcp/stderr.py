"""A stdio server's stderr: a pipe the process writes to, and the last lines that came through.

Servers write their logs and their last words there (a traceback, "missing API key"): the
lines the user reads when a server fails to start or crashes.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
from typing import TextIO

log = logging.getLogger(__name__)

KEPT_LINES = 20
_LONGEST_LINE = 1000


class StderrTail:
    def __init__(self, server: str) -> None:
        self._server = server
        read_end, write_end = os.pipe()
        # Handed to the SDK, which gives it to the process as its stderr.
        self.writer: TextIO = os.fdopen(write_end, "w", encoding="utf-8", errors="replace")
        self._lines: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
        self._lines_lock = threading.Lock()  # copied on the event loop while the reader adds
        self._closed = threading.Event()
        threading.Thread(
            target=self._read, args=(read_end,), name=f"mcp-stderr-{server}", daemon=True
        ).start()

    def release_writer(self) -> None:
        """Close this process's copy of the write end, once the server has its own: the
        pipe then closes when the server (and all it started) has gone."""
        if not self.writer.closed:
            self.writer.close()

    def wait_closed(self, timeout: float) -> bool:
        """Wait until everything the server wrote has been read; False if still open."""
        return self._closed.wait(timeout)

    def lines(self) -> tuple[str, ...]:
        with self._lines_lock:
            return tuple(self._lines)

    def _read(self, read_end: int) -> None:
        with open(read_end, "rb") as stream:
            # Bounded reads: a line without an end must not fill the memory.
            for raw in iter(lambda: stream.readline(64 * 1024), b""):
                line = raw.decode("utf-8", errors="replace").rstrip()
                if not line:
                    continue
                with self._lines_lock:
                    self._lines.append(line[:_LONGEST_LINE])
                log.debug("mcp server %s: %s", self._server, line[:_LONGEST_LINE])
        self._closed.set()
