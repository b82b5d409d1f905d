"""An app whose engine is scripted, with a real granted folder: the agent loop, deterministic."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localwork.app import App
from localwork.paths import AppPaths
from tests.conftest import DETERMINISTIC_GENERATION, write_settings
from tests.support.events import EventWatcher
from tests.support.scripted_engine import logged_requests, use_scripted_engine

# SmolLM2's template has no tool support, so the loop uses the generic <tool_call> marker.
OPEN = {"text": "<tool_call>"}


def call(name: str, **arguments: Any) -> dict[str, Any]:
    """The call as the model writes it under the grammar, after the marker."""
    return {"text": json.dumps({"name": name, "arguments": arguments})}


def guided(name: str, said: str = "", **arguments: Any) -> list[dict[str, Any]]:
    """One round: some text, the marker, then the guided call."""
    return [{"text": said + OPEN["text"]}, call(name, **arguments)]


@dataclass
class ScriptedApp:
    app: App
    script: Path
    folder: Path
    events: EventWatcher
    conversation_id: str

    def send(self, text: str) -> dict[str, Any]:
        return self.app.chat.send(self.conversation_id, text)

    def requests(self) -> list[dict[str, Any]]:
        return logged_requests(self.script)

    def done(self, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
        return self.events.wait_for("reply_done", timeout, job_id=job_id)


@pytest.fixture
def scripted_app(
    paths: AppPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., ScriptedApp]]:
    started: list[App] = []

    def start(replies: list[dict[str, Any]], mode: str = "rw", **generation: Any) -> ScriptedApp:
        folder = tmp_path / "work"
        folder.mkdir(exist_ok=True)
        for name, value in use_scripted_engine(tmp_path / "script.json", replies).items():
            monkeypatch.setenv(name, value)
        write_settings(
            paths,
            {
                "generation": {**DETERMINISTIC_GENERATION, **generation},
                "grants": [{"path": str(folder), "mode": mode}],
            },
        )
        app = App(paths)
        started.append(app)
        app.start()
        app.runtime.ensure_ready(timeout=60)
        conversation = app.store.create_conversation()
        return ScriptedApp(
            app, tmp_path / "script.json", folder, EventWatcher(app.events), conversation["id"]
        )

    yield start
    for app in started:
        app.close()
