"""An app on a scripted engine, with a real granted folder: the agent loop, deterministic.

``fake_app`` runs the app on an in-process fake engine (``tests/support/fake_engine.py``):
for the loop itself. ``scripted_app`` runs the scripted worker in its own process, through
the real runtime and pipe protocol: for what only a process shows (a crash, the crash guard,
the runtime's stop markers and prompt formats). Both take the same replies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localwork.app import App, AppOptions
from localwork.infra.paths import AppPaths
from localwork.tools.source import ToolSource
from tests.conftest import DETERMINISTIC_GENERATION, write_settings
from tests.support.events import EventWatcher
from tests.support.fake_engine import FakeEngine, Scorer
from tests.support.openai_server import OpenAIServer
from tests.support.scripted_engine import add_replies, logged_requests, use_scripted_engine

# SmolLM2's template has no tool support, so the loop uses the generic <tool_call> marker.
OPEN = {"text": "<tool_call>"}


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """The call as the model writes it under the grammar, after the marker."""
    return {"text": json.dumps({"name": name, "arguments": arguments})}


def guided(name: str, said: str = "", **arguments: Any) -> list[dict[str, Any]]:
    """One round: some text, the marker, then the guided call."""
    return [{"text": said + OPEN["text"]}, call(name, **arguments)]


@dataclass
class RunningApp:
    app: App
    folder: Path
    events: EventWatcher
    conversation_id: str

    def send(self, text: str) -> dict[str, Any]:
        return self.app.chat.send(self.conversation_id, text)

    def done(self, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
        return self.events.wait_for("reply_done", timeout, job_id=job_id)


@dataclass
class ScriptedApp(RunningApp):
    """The app with the scripted worker process."""

    script: Path

    def requests(self) -> list[dict[str, Any]]:
        return logged_requests(self.script)

    def add_replies(self, replies: list[dict[str, Any]]) -> None:
        add_replies(self.script, replies)


@dataclass
class FakeApp(RunningApp):
    """The app with the in-process fake engine."""

    engine: FakeEngine

    def requests(self) -> list[dict[str, Any]]:
        return list(self.engine.requests)

    def add_replies(self, replies: list[dict[str, Any]]) -> None:
        self.engine.add_replies(replies)


def _settings(paths: AppPaths, folder: Path, mode: str | None, generation: dict[str, Any]) -> None:
    """``mode`` None: the folder is made but not granted."""
    folder.mkdir(exist_ok=True)
    write_settings(
        paths,
        {
            "generation": {**DETERMINISTIC_GENERATION, **generation},
            "grants": [{"path": str(folder), "mode": mode}] if mode else [],
        },
    )


@pytest.fixture
def scripted_app(
    paths: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., ScriptedApp]]:
    started: list[App] = []

    def start(replies: list[dict[str, Any]], mode: str = "rw", **generation: Any) -> ScriptedApp:
        folder = tmp_path / "work"
        for name, value in use_scripted_engine(tmp_path / "script.json", replies).items():
            monkeypatch.setenv(name, value)
        _settings(paths, folder, mode, generation)
        app = App(paths)
        started.append(app)
        app.start()
        app.runtime.ensure_ready(timeout=60)
        conversation = app.store.create_conversation()
        events = EventWatcher(app.events)
        return ScriptedApp(app, folder, events, conversation["id"], tmp_path / "script.json")

    yield start
    for app in started:
        app.close()


@pytest.fixture
def fake_app(paths: AppPaths, tmp_path: Path) -> Iterator[Callable[..., FakeApp]]:
    started: list[App] = []

    def start(
        replies: list[dict[str, Any]],
        mode: str | None = "rw",
        *,
        scorer: Scorer | None = None,
        tool_sources: tuple[ToolSource, ...] = (),
        **generation: Any,
    ) -> FakeApp:
        folder = tmp_path / "work"
        _settings(paths, folder, mode, generation)
        engine = FakeEngine.factory(replies=replies, scorer=scorer)
        app = App(paths, AppOptions(runtime=engine, tool_sources=tool_sources))
        assert isinstance(app.runtime, FakeEngine)
        started.append(app)
        app.start()
        app.runtime.ensure_ready(timeout=60)
        conversation = app.store.create_conversation()
        events = EventWatcher(app.events)
        return FakeApp(app, folder, events, conversation["id"], app.runtime)

    yield start
    for app in started:
        app.close()


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1 (``tests/support/openai_server.py``)."""
    fake = OpenAIServer().start()
    yield fake
    fake.close()
