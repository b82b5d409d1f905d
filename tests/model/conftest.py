"""Fixtures for tests that run the real SmolLM2-135M model in a real worker process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localwork.app import App
from localwork.events import EventBus
from localwork.infra.paths import AppPaths
from tests.conftest import DETERMINISTIC_GENERATION, write_settings
from tests.support.events import EventWatcher


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


@pytest.fixture
def watch() -> Callable[[EventBus], EventWatcher]:
    return EventWatcher
