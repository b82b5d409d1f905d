"""Waiting for what an app publishes on its EventBus, as the page would see it."""

from __future__ import annotations

import time
from typing import Any

from localwork.events import EventBus

_TERMINAL = {"reply_done", "reply_failed"}


class EventWatcher:
    """Reads an EventBus from where it was when created."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.after = bus.last_seq
        self.seen: list[dict[str, Any]] = []

    def wait_for(self, kind: str, timeout: float = 120.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.bus.poll(self.after, timeout=0.5):
                self.after = event["seq"]
                self.seen.append(event)
                matches = all(event.get(k) == v for k, v in match.items())
                if event["type"] == kind and matches:
                    return event
                if event["type"] in _TERMINAL and matches:
                    raise AssertionError(f"waiting for {kind}, got {event}")
        raise AssertionError(f"no {kind} event {match} within {timeout}s; saw {self.types()}")

    def types(self) -> list[str]:
        return [event["type"] for event in self.seen]

    def tokens(self, job_id: str) -> list[str]:
        return [e["text"] for e in self.seen if e["type"] == "token" and e["job_id"] == job_id]
