"""Fixtures for tests that run the real SmolLM2-135M model in a real worker process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localwork.app import App
from localwork.events import EventBus
from localwork.infra.paths import AppPaths
from tests.conftest import DETERMINISTIC_GENERATION, write_settings

_TERMINAL = {"reply_done", "reply_failed"}
LONG_REPLY_PROMPT = "Write a very long story about a dragon, at least 2000 words."


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.real_model)


@pytest.fixture
def start_app(paths: AppPaths) -> Iterator[Callable[..., App]]:
    """Start a real App (engine worker + bundled model) with the given context settings."""
    started: list[App] = []

    def start(context: dict[str, Any] | None = None, **settings: Any) -> App:
        generation = {**DETERMINISTIC_GENERATION, **settings.pop("generation", {})}
        write_settings(paths, {"context": context or {}, "generation": generation, **settings})
        app = App(paths)
        assert app.settings.notice is None, app.settings.notice  # the test's settings are valid
        started.append(app)
        app.start()
        app.runtime.ensure_ready(timeout=120)
        return app

    yield start
    for app in started:
        app.close()


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


@pytest.fixture
def watch() -> Callable[[EventBus], EventWatcher]:
    return EventWatcher
