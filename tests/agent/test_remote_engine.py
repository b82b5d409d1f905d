"""The agent loop on a server's model (``engine/remote/engine.py`` behind ``engine/choice.py``):
the same loop, approvals and events as on the local engine, against a scripted
OpenAI-compatible server on 127.0.0.1 (``tests/support/openai_server.py``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localwork.app import App, AppOptions
from localwork.infra.paths import AppPaths
from tests.conftest import DETERMINISTIC_GENERATION, write_settings
from tests.support.events import EventWatcher
from tests.support.fake_engine import FakeEngine
from tests.support.openai_server import (
    Answer,
    OpenAIServer,
    Silence,
    Stream,
    chunk,
    text_stream,
    usage_chunk,
)

MODEL = "gpu-box/Qwen3-8B"


def tool_call_chunk(name: str, arguments: dict[str, Any], index: int = 0) -> dict[str, Any]:
    call = {
        "index": index,
        "id": f"call_{index}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }
    return chunk(tool_calls=[call])


def call_stream(name: str, **arguments: Any) -> Stream:
    return Stream([tool_call_chunk(name, arguments), chunk(finish_reason="tool_calls")])


class RemoteApp:
    def __init__(self, app: App, server: OpenAIServer, folder: Path) -> None:
        self.app, self.server, self.folder = app, server, folder
        self.events = EventWatcher(app.events)
        self.conversation_id = app.store.create_conversation()["id"]

    def send(self, text: str, mode: str = "auto") -> str:
        self.app.store.set_tool_mode(self.conversation_id, mode)  # type: ignore[arg-type]
        return str(self.app.chat.send(self.conversation_id, text)["job_id"])

    def done(self, job: str, timeout: float = 20.0) -> dict[str, Any]:
        return self.events.wait_for("reply_done", timeout, job_id=job)

    def failed(self, job: str, timeout: float = 20.0) -> dict[str, Any]:
        return self.events.wait_for("reply_failed", timeout, job_id=job)


@pytest.fixture
def remote_app(
    paths: AppPaths, tmp_path: Path, server: OpenAIServer
) -> Iterator[Callable[..., RemoteApp]]:
    started: list[App] = []

    def start(tools: str = "native", mode: str | None = "rw", **model: Any) -> RemoteApp:
        folder = tmp_path / "work"
        folder.mkdir(exist_ok=True)
        servers = [
            {
                "name": "gpu-box",
                "base_url": server.url,
                "api_key": "sk-remote",
                "models": [{"id": "Qwen3-8B", "tools": tools, **model}],
            }
        ]
        write_settings(
            paths,
            {
                "generation": DETERMINISTIC_GENERATION,
                "grants": [{"path": str(folder), "mode": mode}] if mode else [],
                "servers": servers,
                "selected_model": MODEL,
            },
        )
        app = App(paths, AppOptions(runtime=FakeEngine.factory(replies=[])))
        started.append(app)
        app.start()
        return RemoteApp(app, server, folder)

    yield start
    for app in started:
        app.close()


def test_a_servers_model_answers_in_a_stream_with_the_system_prompt_first(remote_app, server):
    server.script(text_stream("Hello", " from", " the server."))
    running = remote_app()
    job = running.send("Hi!")
    message = running.done(job)["message"]

    assert message["content"] == "Hello from the server."
    tokens = [e["text"] for e in running.events.seen if e["type"] == "token"]
    assert tokens == ["Hello", " from", " the server."]
    body = server.chat_requests()[0].body
    assert body["model"] == "Qwen3-8B" and body["stream"] is True
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][-1] == {"role": "user", "content": "Hi!"}
    assert server.chat_requests()[0].headers["authorization"] == "Bearer sk-remote"


def test_the_status_names_the_model_on_its_server_and_the_local_model_is_unloaded(remote_app):
    running = remote_app()
    status = running.app.engine.status()
    assert status["state"] == "ready"
    assert status["model"]["label"] == "Qwen3-8B on gpu-box (remote)"
    assert status["model"]["host"] == "127.0.0.1" and status["model"]["n_ctx"] == 8192
    assert running.app.runtime.status()["state"] == "idle"  # its memory is free


def test_the_servers_usage_counts_are_the_replys_stats(remote_app, server):
    server.script(Stream([chunk("Four."), chunk(finish_reason="stop"), usage_chunk(31, 2)]))
    running = remote_app()
    stats = running.done(running.send("2+2?"))["stats"]
    assert stats["prompt_tokens"] == 31 and stats["completion_tokens"] == 2
    assert stats["stop_reason"] == "eos"


def test_a_native_tool_call_runs_the_file_tool_and_its_result_goes_back(remote_app, server):
    server.script(
        Stream(
            [tool_call_chunk("list_directory", {"path": "."}), chunk(finish_reason="tool_calls")]
        ),
        text_stream("Your folder holds notes.txt."),
    )
    running = remote_app(mode="ro")
    (running.folder / "notes.txt").write_text("hello")
    message = running.done(running.send("What is in my folder?"))["message"]

    calls = message["meta"]["tool_calls"]
    assert [c["tool"] for c in calls] == ["list_directory"] and calls[0]["status"] == "done"
    assert message["content"] == "Your folder holds notes.txt."
    first, second = (request.body for request in server.chat_requests())
    assert {tool["function"]["name"] for tool in first["tools"]} >= {"list_directory", "read_file"}
    assert first["tool_choice"] == "auto"
    assistant, result = second["messages"][-2:]
    sent_call = assistant["tool_calls"][0]
    assert json.loads(sent_call["function"]["arguments"]) == {"path": "."}  # JSON text
    assert result["role"] == "tool" and result["tool_call_id"] == sent_call["id"]
    assert "notes.txt" in result["content"]


def test_tool_use_required_asks_the_server_for_a_call(remote_app, server):
    server.script(
        Stream(
            [tool_call_chunk("list_directory", {"path": "."}), chunk(finish_reason="tool_calls")]
        ),
        text_stream("Done."),
    )
    running = remote_app(mode="ro")
    running.done(running.send("List my folder.", mode="required"))
    assert server.chat_requests()[0].body["tool_choice"] == "required"


def test_a_change_waits_for_approval_as_on_the_local_engine(remote_app, server):
    server.script(
        Stream(
            [
                tool_call_chunk("write_file", {"path": "new.txt", "content": "hi"}),
                chunk(finish_reason="tool_calls"),
            ]
        ),
        text_stream("Written."),
    )
    running = remote_app()
    job = running.send("Write new.txt.")
    waiting = running.events.wait_for("tool_call", 20, job_id=job)
    while waiting["call"]["status"] != "waiting":
        waiting = running.events.wait_for("tool_call", 20, job_id=job)
    assert not (running.folder / "new.txt").exists()
    from localwork.tools.approval import UserAnswer

    running.app.chat.decide(running.conversation_id, waiting["call"]["id"], UserAnswer("approve"))
    running.done(job)
    assert (running.folder / "new.txt").read_text() == "hi"


def test_prompted_tools_are_described_in_the_system_prompt_and_read_from_the_text(
    remote_app, server
):
    server.script(
        text_stream(
            '<tool_call>\n{"name": "list_directory", "arguments": {"path": "."}}\n</tool_call>'
        ),
        text_stream("It holds a.txt."),
    )
    running = remote_app(tools="prompt", mode="ro")
    (running.folder / "a.txt").write_text("x")
    message = running.done(running.send("What is in my folder?"))["message"]

    assert message["meta"]["tool_calls"][0]["tool"] == "list_directory"
    assert message["content"] == "It holds a.txt."
    first, second = (request.body for request in server.chat_requests())
    assert "tools" not in first
    assert "<tool_call>" in first["messages"][0]["content"]  # the instructions
    assert all(m["role"] in ("system", "user", "assistant") for m in second["messages"])
    assert "<tool_response>" in second["messages"][-1]["content"]


def test_reasoning_is_shown_apart_kept_with_the_message_and_never_sent_back(remote_app, server):
    server.script(
        Stream(
            [
                chunk(reasoning_content="The user greets me. "),
                chunk(reasoning_content="I greet back."),
                chunk("Hello!"),
                chunk(finish_reason="stop"),
            ]
        ),
        text_stream("Again."),
    )
    running = remote_app()
    message = running.done(running.send("Hi"))["message"]
    assert message["content"] == "Hello!"
    assert message["meta"]["reasoning"]["text"] == "The user greets me. I greet back."
    thoughts = [e["text"] for e in running.events.seen if e["type"] == "reasoning"]
    assert "".join(thoughts) == "The user greets me. I greet back."

    running.done(running.send("Once more"))
    history = json.dumps(server.chat_requests()[1].body["messages"])
    assert "greet back" not in history and "Hello!" in history


def test_think_tags_in_the_text_become_reasoning(remote_app, server):
    server.script(text_stream("<think>", "Short thought.", "</think>", "\n\nThe answer."))
    running = remote_app()
    message = running.done(running.send("Question"))["message"]
    assert message["content"] == "The answer."
    assert message["meta"]["reasoning"]["text"] == "Short thought."


def test_a_reply_that_started_inside_the_reasoning_is_refiled(remote_app, server):
    # A template that ends the prompt with <think>: the reply only has the closing tag.
    server.script(text_stream("Thinking it over.", "</think>", "Yes."))
    running = remote_app()
    message = running.done(running.send("Question"))["message"]
    assert message["content"] == "Yes."
    assert message["meta"]["reasoning"]["text"] == "Thinking it over."
    refiled = [e for e in running.events.seen if e["type"] == "reasoning" and e["refiled"]]
    assert refiled and refiled[0]["text"] == "Thinking it over."


def test_thinking_switched_off_asks_the_server_not_to_think(remote_app, server):
    server.script(text_stream("Hi."))
    running = remote_app(reasoning=False)
    running.done(running.send("Hi"))
    body = server.chat_requests()[0].body
    assert body["chat_template_kwargs"] == {"enable_thinking": False}


_FAILURES = [
    (Answer(401, {"error": {"message": "Invalid API key"}}), "remote_auth_failed", False),
    (Answer(404, {"error": {"message": "no model"}}), "remote_model_not_found", False),
    (
        Answer(429, {"error": {"message": "slow"}}, {"Retry-After": "7"}),
        "remote_rate_limited",
        True,
    ),
    (Answer(500, "Internal Server Error", media_type="text/plain"), "remote_server_error", True),
    (Answer(200, "<html>proxy</html>", media_type="text/html"), "remote_bad_response", True),
]


@pytest.mark.parametrize(("answer", "code", "retry"), _FAILURES)
def test_a_server_failure_is_saved_with_its_reason_and_advice(
    remote_app, server, answer, code, retry
):
    server.script(answer)
    running = remote_app()
    failed = running.failed(running.send("Hi"))
    assert failed["error"]["code"] == code and failed["error"]["retry"] is bool(retry)
    assert failed["error"]["advice"]  # what to do, in words
    if code == "remote_rate_limited":
        assert "Wait 7 s" in failed["error"]["advice"]
    saved = running.app.store.messages(running.conversation_id)[-1]
    assert saved["meta"]["error"]["code"] == code  # a reload shows the same reason


def test_an_unreachable_server_says_so_with_its_address(remote_app, server):
    running = remote_app()
    url = server.url
    server.close()
    failed = running.failed(running.send("Hi"))
    assert failed["error"]["code"] == "remote_unreachable"
    assert url.split("/v1")[0].removeprefix("http://") in failed["error"]["message"]


def test_a_stream_that_drops_keeps_what_was_written_as_interrupted(remote_app, server):
    server.script(text_stream("The first half", " of it", drop_after=2))
    running = remote_app()
    failed = running.failed(running.send("Tell me"))
    assert failed["error"]["code"] == "remote_stream_dropped"
    saved = running.app.store.messages(running.conversation_id)[-1]
    assert saved["content"] == "The first half of it"
    assert saved["meta"]["interrupted"] is True


def test_stop_ends_a_reply_from_a_server_that_never_answers(remote_app, server):
    server.script(Silence())
    running = remote_app()
    job = running.send("Hi")
    running.events.wait_for("reply_started", 10, job_id=job)
    time.sleep(0.3)  # the request is on its way
    asked = time.monotonic()
    assert running.app.chat.stop(running.conversation_id)
    done = running.done(job, timeout=10)
    assert done["stopped"] is True and time.monotonic() - asked < 2.0


def test_stop_mid_stream_keeps_the_text_so_far(remote_app, server):
    server.script(text_stream(*[f"word{i} " for i in range(200)], gap=0.05))
    running = remote_app()
    job = running.send("Write a lot")
    running.events.wait_for("token", 10, job_id=job)
    asked = time.monotonic()
    running.app.chat.stop(running.conversation_id)
    done = running.done(job, timeout=10)
    assert done["stopped"] is True and time.monotonic() - asked < 2.0
    assert done["message"]["content"].startswith("word0")
    assert server.wait_for_disconnects(1)


def test_the_context_meter_counts_through_the_servers_engine(remote_app, server):
    running = remote_app()
    running.app.store.add_message(running.conversation_id, "user", "x" * 3000)
    from localwork.chat.usage import context_usage

    app = running.app
    tokens = context_usage(app.store, app.engine, app.settings, running.conversation_id)["tokens"]
    assert 1000 <= tokens <= 1200  # estimated on the large side: about 3 characters a token


def test_the_prompts_estimated_size_is_said_before_the_servers_first_text(remote_app, server):
    server.script(Stream([chunk("Four."), chunk(finish_reason="stop"), usage_chunk(31, 2)]))
    running = remote_app()
    job = running.send("x" * 300)
    running.done(job)
    mine = [e for e in running.events.seen if e.get("job_id") == job]
    kinds = [e["type"] for e in mine if e["type"] in ("reply_context", "token")]
    assert kinds[0] == "reply_context"  # the meter's figure while the reply is written
    sized = next(e for e in mine if e["type"] == "reply_context")
    # Estimated (about 3 characters a token), with the tool list the request carries.
    assert sized["prompt_tokens"] >= 100


def test_a_conversation_too_long_for_the_models_context_is_refused_before_sending(
    remote_app, server
):
    running = remote_app(context_length=1024)
    failed = running.failed(running.send("y" * 9000))
    assert failed["error"]["code"] == "context_overflow"
    assert server.chat_requests() == []  # nothing was sent


def test_choosing_an_installed_model_again_loads_it_and_leaves_the_server(remote_app, server):
    running = remote_app()
    app = running.app
    app.models.select("bundled/SmolLM2-135M-Instruct.Q4_1", confirmed=True)
    app.runtime.ensure_ready(timeout=30)
    assert app.engine.status()["model"].get("remote") is None
    assert app.settings.current.selected_model is None  # the bundled model


@pytest.mark.parametrize("tools", ["native", "prompt"])
def test_the_tool_lists_cost_is_counted_the_way_the_server_gets_it(remote_app, tools):
    running = remote_app(tools=tools)
    offered = running.app.folders.tool_runner().offered
    assert offered  # the file tools, with the folder granted
    cost = running.app.engine.count_tools(offered)
    assert cost > 100  # nine tools with their schemas
    assert running.app.engine.count_tools({}) == 0
    one = dict(list(offered.items())[:1])
    assert 0 < running.app.engine.count_tools(one) < cost
