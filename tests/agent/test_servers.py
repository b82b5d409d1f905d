"""The servers the user adds (``library/servers.py``), through the bridge as the page calls it,
against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from localwork.app import App, AppOptions
from localwork.infra.paths import AppPaths
from localwork.transports.bridge import Bridge
from tests.support.fake_engine import FakeEngine
from tests.support.openai_server import (
    Answer,
    Stream,
    chunk,
    model_list,
    text_stream,
)


@pytest.fixture
def bridge(paths: AppPaths) -> Iterator[Bridge]:
    app = App(paths, AppOptions(runtime=FakeEngine.factory(replies=[])))
    app.start()
    app.runtime.ensure_ready(timeout=30)
    yield Bridge(app)
    app.close()


def ok(bridge: Bridge, method: str, **params: Any) -> Any:
    answer = bridge.dispatch(method, params)
    assert answer["ok"], answer
    return answer["data"]


def error(bridge: Bridge, method: str, **params: Any) -> dict[str, Any]:
    answer = bridge.dispatch(method, params)
    assert not answer["ok"], answer
    return answer["error"]


def test_a_server_is_saved_with_its_key_which_the_page_never_sees(bridge, server, paths):
    data = ok(bridge, "add_server", name="gpu-box", base_url=server.url, api_key="sk-secret")
    assert data["servers"] == [
        {
            "name": "gpu-box",
            "base_url": server.url,
            "has_key": True,
            "unencrypted": False,  # loopback
            "models": [],
        }
    ]
    assert "sk-secret" not in json.dumps(ok(bridge, "list_servers"))
    assert "sk-secret" in paths.settings_file.read_text()  # kept like the Hub token


def test_a_server_that_is_down_is_saved_all_the_same(bridge):
    data = ok(bridge, "add_server", name="later", base_url="http://127.0.0.1:9/v1")
    assert [s["name"] for s in data["servers"]] == ["later"]
    probe = ok(bridge, "probe_server", name="later")
    assert probe["state"] == "failed" and "127.0.0.1:9" in probe["reason"]


def test_plain_http_to_another_machine_is_marked_unencrypted(bridge):
    data = ok(bridge, "add_server", name="lan", base_url="http://192.168.1.20:8000/v1")
    assert data["servers"][0]["unencrypted"] is True


@pytest.mark.parametrize(
    ("name", "base_url"),
    [
        ("local", "http://127.0.0.1:8080/v1"),  # the installed models' own prefix
        ("a/b", "http://127.0.0.1:8080/v1"),
        ("ok", "ftp://example.com/v1"),
        ("ok", "not a url"),
    ],
)
def test_a_bad_name_or_address_is_refused_in_words(bridge, name, base_url):
    problem = error(bridge, "add_server", name=name, base_url=base_url)
    assert problem["message"]
    assert ok(bridge, "list_servers")["servers"] == []


def test_the_same_name_twice_is_refused(bridge, server):
    ok(bridge, "add_server", name="gpu-box", base_url=server.url)
    assert "already" in error(bridge, "add_server", name="GPU-box", base_url=server.url)["message"]


def test_the_servers_models_are_listed_with_the_context_it_says(bridge, server):
    server.models = model_list("Qwen3-8B", "llama-3.1-8b")
    server.models.body["data"][0]["max_model_len"] = 32768  # type: ignore[index]
    ok(bridge, "add_server", name="gpu-box", base_url=server.url)
    listed = ok(bridge, "server_models", name="gpu-box")
    assert listed["ids"] == ["Qwen3-8B", "llama-3.1-8b"]
    assert listed["context_lengths"] == {"Qwen3-8B": 32768}

    data = ok(bridge, "set_server_model", name="gpu-box", model_id="Qwen3-8B")
    assert data["servers"][0]["models"][0]["context_length"] == 32768
    data = ok(bridge, "set_server_model", name="gpu-box", model_id="llama-3.1-8b")
    assert data["servers"][0]["models"][1]["context_length"] == 8192  # the default


def test_a_server_without_a_list_lets_the_user_type_the_id(bridge, server):
    server.models = Answer(404, {"error": "no such route"})
    ok(bridge, "add_server", name="proxy", base_url=server.url)
    listed = ok(bridge, "server_models", name="proxy")
    assert listed["listed"] is False and "type the model id" in listed["note"]
    data = ok(bridge, "set_server_model", name="proxy", model_id="my-model", context_length=4096)
    assert data["servers"][0]["models"][0] == {
        "id": "my-model",
        "context_length": 4096,
        "tools": "native",
        "reasoning": True,
    }


def test_the_tool_test_finds_native_tool_calls(bridge, server):
    call = {
        "index": 0,
        "id": "c1",
        "type": "function",
        "function": {"name": "get_current_time", "arguments": "{}"},
    }
    server.script(Stream([chunk(tool_calls=[call]), chunk(finish_reason="tool_calls")]))
    ok(bridge, "add_server", name="gpu-box", base_url=server.url)
    found = ok(bridge, "test_server_tools", name="gpu-box", model_id="Qwen3-8B")
    assert found["tools"] == "native"
    assert server.chat_requests()[0].body["tool_choice"] == "required"
    assert found["servers"][0]["models"][0]["tools"] == "native"


@pytest.mark.parametrize(
    "answer",
    [
        text_stream("It is noon."),  # it wrote text instead
        Answer(400, {"error": {"message": "tools are not supported"}}),
    ],
)
def test_the_tool_test_falls_back_to_tools_in_the_prompt(bridge, server, answer):
    server.script(answer)
    ok(bridge, "add_server", name="gpu-box", base_url=server.url)
    found = ok(bridge, "test_server_tools", name="gpu-box", model_id="m")
    assert found["tools"] == "prompt" and found["detail"]


def test_the_tool_test_changes_nothing_when_the_server_cannot_be_asked(bridge, server):
    server.script(Answer(401, {"error": {"message": "bad key"}}))
    ok(bridge, "add_server", name="gpu-box", base_url=server.url)
    assert error(bridge, "test_server_tools", name="gpu-box", model_id="m")["code"] == (
        "remote_auth_failed"
    )
    assert ok(bridge, "list_servers")["servers"][0]["models"] == []


def test_selecting_a_servers_model_makes_it_the_chats_engine(bridge, server):
    ok(bridge, "add_server", name="gpu-box", base_url=server.url)
    data = ok(bridge, "select_server_model", name="gpu-box", model_id="Qwen3-8B")
    assert data["selected"] == "gpu-box/Qwen3-8B"
    status = ok(bridge, "get_status")
    assert status["model"]["label"] == "Qwen3-8B on gpu-box (remote)"
    assert status["state"] == "ready"


def test_removing_the_selected_server_goes_back_to_the_last_installed_model(bridge, server):
    ok(bridge, "add_server", name="gpu-box", base_url=server.url)
    ok(bridge, "select_server_model", name="gpu-box", model_id="Qwen3-8B")
    ok(bridge, "remove_server", name="gpu-box")
    bridge._app.runtime.ensure_ready(timeout=30)
    status = ok(bridge, "get_status")
    assert not status["model"].get("remote")
    assert bridge._app.settings.current.selected_model is None


def test_continue_locally_answers_the_failed_message_on_the_installed_model(bridge, server):
    server.script(Answer(500, "model crashed", media_type="text/plain"))
    ok(bridge, "add_server", name="gpu-box", base_url=server.url)
    ok(bridge, "select_server_model", name="gpu-box", model_id="Qwen3-8B")
    app = bridge._app
    from tests.support.events import EventWatcher

    events = EventWatcher(app.events)
    sent = ok(bridge, "send_message", conversation_id=None, text="Hello?")
    conversation = sent["conversation"]["id"]
    assert events.wait_for("reply_failed", 20, job_id=sent["job_id"])["error"]["code"] == (
        "remote_server_error"
    )
    app.runtime.add_replies([{"text": "Hi from the laptop."}])
    again = ok(bridge, "continue_locally", conversation_id=conversation)
    done = events.wait_for("reply_done", 30, job_id=again["job_id"])
    assert done["message"]["content"] == "Hi from the laptop."
    assert not ok(bridge, "get_status")["model"].get("remote")
    # The failure record went; the message and the local answer stay.
    roles = [m["role"] for m in app.store.messages(conversation)]
    assert roles == ["user", "assistant"]
