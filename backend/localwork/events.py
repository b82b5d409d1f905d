"""The event queue both transports carry to the frontend (tokens, replies, model status)."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

_MAX_EVENTS = 10_000


class EventBus:
    """Numbered events in a bounded buffer; readers long-poll for everything after a number."""

    def __init__(self, capacity: int = _MAX_EVENTS) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._next_seq = 1
        self._changed = threading.Condition()
        self._closed = False

    def publish(self, kind: str, **payload: Any) -> dict[str, Any]:
        with self._changed:
            event = {"seq": self._next_seq, "type": kind, **payload}
            self._next_seq += 1
            self._events.append(event)
            self._changed.notify_all()
        return event

    @property
    def last_seq(self) -> int:
        with self._changed:
            return self._next_seq - 1

    def poll(self, after: int, timeout: float) -> list[dict[str, Any]]:
        """Events numbered above ``after``, waiting up to ``timeout`` seconds for the first."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._closed or self._next_seq - 1 > after, timeout=timeout
            )
            # Walk back from the newest event: the cost is the new events, not the buffer.
            fresh = []
            for event in reversed(self._events):
                if event["seq"] <= after:
                    break
                fresh.append(event)
            fresh.reverse()
            return fresh

    def close(self) -> None:
        """Release every waiting reader at once (their threads must not hold up exit)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
