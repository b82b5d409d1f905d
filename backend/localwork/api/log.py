"""The API log: the latest requests, newest last, each as the Local API pane shows it."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, TypedDict

MAX_ROWS = 500


class LogRow(TypedDict):
    id: int
    time: float  # when the request came, seconds since the epoch
    client: str  # "127.0.0.1:53122"
    endpoint: str  # "POST /v1/chat/completions"
    model: str | None
    tokens_in: int | None
    tokens_out: int | None
    duration_ms: float
    status: int  # the HTTP status it got (499: the client left first)


class RequestLog:
    """A bounded, thread-safe list of ``LogRow``."""

    def __init__(self, capacity: int = MAX_ROWS) -> None:
        self._rows: deque[LogRow] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, **fields: Any) -> LogRow:
        with self._lock:
            row: LogRow = {"id": self._next_id, **fields}  # type: ignore[typeddict-item]
            self._next_id += 1
            self._rows.append(row)
            return row

    def rows(self, after: int = 0, limit: int = MAX_ROWS) -> list[LogRow]:
        with self._lock:
            return [row for row in self._rows if row["id"] > after][-limit:]


def started() -> tuple[float, float]:
    """The wall-clock time a request came and the monotonic clock, for its duration."""
    return time.time(), time.monotonic()
