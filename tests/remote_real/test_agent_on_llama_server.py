"""The app on a real third-party server: llama-cpp-python's ``llama_cpp.server`` serving the
bundled SmolLM2 on 127.0.0.1, selected as a server's model (``engine/choice.py``) — chat,
streaming, Stop, a tool turn through the agent loop, and the context budget. A 135M model's
wording varies: these assert what the app guarantees (a call was made and ran, a reply is not
empty, a stop is quick), never what it wrote."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from localwork.app import App, AppOptions
from localwork.infra.paths import AppPaths
from localwork.tools.base import Tool
from localwork.tools.source import SourceRun
from tests.conftest import write_settings
from tests.support.events import EventWatcher
from tests.support.fake_engine import FakeEngine
from tests.support.llama_server import LlamaServer

ALIAS = "smollm2"
MODEL = f"llama-box/{ALIAS}"
_CITY = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "the city"}},
    "required": ["city"],
}


class WeatherSource:
    """One tool that only reads, so the call needs no approval."""

    name = "weather"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def tools(self) -> Sequence[Tool]:
        return (Tool("get_weather", "The weather in a city now.", None, input_schema=_CITY),)

    def available(self) -> bool:
        return True

    def preview(self, tool: Tool, arguments: Any) -> dict[str, Any]:
        return {"summary": "", "diff": None}

    def run(self, tool: Tool, arguments: Any, on_progress: Any = None) -> SourceRun:
        self.calls.append(arguments)
        return SourceRun({"city": arguments["city"], "sky": "sunny", "celsius": 21})


@pytest.fixture(scope="module")
def aliased_server(bundled_model: Path) -> Iterator[LlamaServer]:
    from tests.remote_real.conftest import _installed

    _installed()
    with LlamaServer(bundled_model, extra_args=("--model_alias", ALIAS)) as server:
        yield server


@pytest.fixture
def start(paths: AppPaths, aliased_server: LlamaServer) -> Iterator[Any]:
    started: list[App] = []

    def make(
        *, context_length: int = 2048, tool_sources: tuple[Any, ...] = (), **generation: Any
    ) -> tuple[App, EventWatcher, str]:
        write_settings(
            paths,
            {
                "generation": {"temperature": 0.0, "seed": 1, "max_tokens": 64, **generation},
                "servers": [
                    {
                        "name": "llama-box",
                        "base_url": aliased_server.base_url,
                        "models": [
                            {"id": ALIAS, "context_length": context_length, "tools": "native"}
                        ],
                    }
                ],
                "selected_model": MODEL,
            },
        )
        options = AppOptions(runtime=FakeEngine.factory(replies=[]), tool_sources=tool_sources)
        app = App(paths, options)
        started.append(app)
        app.start()
        return app, EventWatcher(app.events), app.store.create_conversation()["id"]

    yield make
    for app in started:
        app.close()


def test_a_reply_streams_from_the_real_server(start):
    app, events, conversation = start()
    job = app.chat.send(conversation, "Say hello.")["job_id"]
    done = events.wait_for("reply_done", 60, job_id=job)
    tokens = [e for e in events.seen if e["type"] == "token" and e["job_id"] == job]
    assert done["message"]["content"].strip() and len(tokens) >= 2
    assert done["stats"]["completion_tokens"] >= 1 and done["stats"]["tokens_per_second"]
    assert app.engine.status()["model"]["label"] == f"{ALIAS} on llama-box (remote)"


def test_stop_ends_a_long_reply_from_the_real_server_at_once(start):
    app, events, conversation = start(max_tokens=2000)
    job = app.chat.send(conversation, "Write a very long story about a dragon.")["job_id"]
    events.wait_for("token", 60, job_id=job)
    asked = time.monotonic()
    app.chat.stop(conversation)
    done = events.wait_for("reply_done", 30, job_id=job)
    assert done["stopped"] is True and time.monotonic() - asked < 2.0
    # The server is free again at once: the next reply is answered.
    again = app.chat.send(conversation, "Say hello.")["job_id"]
    assert events.wait_for("reply_done", 60, job_id=again)["message"] is not None


def test_a_required_tool_call_goes_through_the_agent_loop(start):
    weather = WeatherSource()
    app, events, conversation = start(tool_sources=(weather,))
    app.store.set_tool_mode(conversation, "required")
    job = app.chat.send(conversation, "What is the weather in Paris?")["job_id"]
    done = events.wait_for("reply_done", 90, job_id=job)

    calls = done["message"]["meta"]["tool_calls"]
    assert calls[0]["tool"] == "get_weather" and calls[0]["status"] == "done"
    assert weather.calls and isinstance(weather.calls[0]["city"], str)
    assert done["message"]["content"].strip()  # its answer, or what the call did


def test_a_history_longer_than_the_context_is_trimmed_before_it_is_sent(start):
    app, events, conversation = start(context_length=2048)
    for index in range(12):  # about 12 x 400 = 4,800 tokens: more than the 2,048 it holds
        app.store.add_message(conversation, "user", f"Note {index}: " + "lorem ipsum " * 80)
        app.store.add_message(conversation, "assistant", "Noted.")
    job = app.chat.send(conversation, "Say hello.")["job_id"]
    done = events.wait_for("reply_done", 60, job_id=job)
    trimmed = [e for e in events.seen if e["type"] == "history_trimmed" and e["job_id"] == job]
    assert trimmed[0]["dropped_messages"] > 0 and done["message"]["content"].strip()
    assert done["stats"]["prompt_tokens"] < 2048  # the server's own count: it fitted
    assert app.engine.ready().counts_tokens  # fitted by the server's tokenizer, not a guess
