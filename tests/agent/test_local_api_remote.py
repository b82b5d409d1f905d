"""The local API on a server's model (the scripted OpenAI server of tests/support): the model
named in the request is used, ``response_format`` and ``stop`` are passed on, a server's
native tool calls come back in the OpenAI shape, and the caller's tools go to it as they are.
The server's reasoning (its ``reasoning_content`` field, or ``<think>`` in its text) comes
back in each API's place for it, never in the answer."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from localwork.app import App, AppOptions
from localwork.infra.paths import AppPaths
from tests.conftest import DETERMINISTIC_GENERATION, write_settings
from tests.support.fake_engine import FakeEngine
from tests.support.openai_server import OpenAIServer, Stream, chunk, text_stream, usage_chunk

KEY = "remote-test-key-0123456789"


@pytest.fixture
def api(paths: AppPaths, server: OpenAIServer) -> Iterator[App]:
    servers = [
        {
            "name": "gpu-box",
            "base_url": server.url,
            "api_key": "sk-remote",
            "models": [{"id": "Qwen3-8B", "tools": "native", "context_length": 8192}],
        }
    ]
    write_settings(
        paths,
        {
            "generation": DETERMINISTIC_GENERATION,
            "servers": servers,
            "selected_model": "gpu-box/Qwen3-8B",  # what "default" names
        },
    )
    app = App(paths, AppOptions(runtime=FakeEngine.factory(replies=[])))
    app.start(api=False)
    app.api.start(port=0, key=KEY)
    yield app
    app.close()


def post(app: App, body: dict, path: str = "/chat/completions") -> httpx.Response:
    return httpx.post(
        f"{app.api.base_url}{path}", json=body, headers={"x-api-key": KEY}, timeout=30
    )


def streamed(app: App, body: dict, path: str) -> list[dict]:
    """The data of each server-sent event of a streamed reply, ``[DONE]`` left out."""
    with httpx.stream(
        "POST",
        f"{app.api.base_url}{path}",
        json={**body, "stream": True},
        headers={"x-api-key": KEY},
        timeout=30,
    ) as reply:
        assert reply.status_code == 200, reply.read()
        lines = [line[6:] for line in reply.iter_lines() if line.startswith("data: ")]
    return [json.loads(line) for line in lines if line != "[DONE]"]


def test_the_servers_model_is_listed_and_used_with_the_callers_format(api, server):
    listed = httpx.get(f"{api.api.base_url}/models", headers={"x-api-key": KEY}).json()["data"]
    assert {"id": "gpu-box/Qwen3-8B", "context_length": 8192}.items() <= next(
        m for m in listed if m["id"] == "gpu-box/Qwen3-8B"
    ).items()
    server.script(text_stream('{"a": 1}'))
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    reply = post(
        api,
        {
            "model": "gpu-box/Qwen3-8B",
            "messages": [{"role": "user", "content": "JSON please"}],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": schema},
            },
            "stop": ["END"],
        },
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["choices"][0]["message"]["content"] == '{"a": 1}'
    sent = server.chat_requests()[-1].body
    assert sent["model"] == "Qwen3-8B" and sent["stop"] == ["END"]
    assert sent["response_format"]["json_schema"]["schema"] == schema


def test_parallel_native_calls_stream_with_index_id_and_name_once(api, server):
    calls = [
        {"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
        {"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
    ]
    server.script(
        Stream([chunk(tool_calls=calls), chunk(finish_reason="tool_calls"), usage_chunk(5, 3)])
    )
    tools = [
        {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
        for name in ("f", "g")
    ]
    body = {
        "model": "gpu-box/Qwen3-8B",
        "messages": [{"role": "user", "content": "both"}],
        "tools": tools,
        "stream": True,
    }
    with httpx.stream(
        "POST", f"{api.api.base_url}/chat/completions", json=body, headers={"x-api-key": KEY}
    ) as reply:
        lines = [line for line in reply.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    deltas = [
        call
        for line in lines[:-1]
        for choice in json.loads(line[6:])["choices"]
        for call in choice["delta"].get("tool_calls") or []
    ]
    named = [d for d in deltas if "id" in d]
    assert [(d["index"], d["function"]["name"]) for d in named] == [(0, "f"), (1, "g")]
    assert all("name" not in d["function"] for d in deltas if "id" not in d)
    sent = server.chat_requests()[-1].body  # the caller's tools went to the server as they are
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["f", "g"]


THOUGHT = "The user says hello; answer in one word."
ANSWER = "Hello!"


def thinking_reply(style: str) -> Stream:
    """The server's reply: its reasoning in the ``reasoning_content`` field, or in ``<think>``
    in its text (each cut across chunks)."""
    if style == "field":
        thought = [chunk(reasoning_content=THOUGHT[:12]), chunk(reasoning_content=THOUGHT[12:])]
        return Stream([*thought, chunk(ANSWER[:3]), chunk(ANSWER[3:]), chunk(finish_reason="stop")])
    return text_stream(f"<think>{THOUGHT[:12]}", f"{THOUGHT[12:]}</th", "ink>\n\n", "Hel", "lo!")


STYLES = pytest.mark.parametrize("style", ["field", "think"])
HELLO = {"model": "default", "messages": [{"role": "user", "content": "Hi"}]}


@STYLES
def test_chat_completions_give_the_reasoning_as_reasoning_content(api, server, style):
    server.script(thinking_reply(style), thinking_reply(style))
    message = post(api, HELLO).json()["choices"][0]["message"]
    assert message["reasoning_content"] == THOUGHT and message["content"] == ANSWER

    deltas = [c["choices"][0]["delta"] for c in streamed(api, HELLO, "/chat/completions")]
    said = [(key, d[key]) for d in deltas for key in ("reasoning_content", "content") if d.get(key)]
    kinds = [key for key, _ in said]
    assert "reasoning_content" not in kinds[kinds.index("content") :]  # reasoning comes first
    assert "".join(text for key, text in said if key == "reasoning_content") == THOUGHT
    assert "".join(text for key, text in said if key == "content") == ANSWER


@STYLES
def test_messages_give_the_reasoning_as_a_thinking_block(api, server, style):
    server.script(thinking_reply(style), thinking_reply(style))
    body = {**HELLO, "max_tokens": 100}
    reply = post(api, body, "/messages").json()
    assert reply["content"] == [
        {"type": "thinking", "thinking": THOUGHT, "signature": ""},
        {"type": "text", "text": ANSWER},
    ]

    events = streamed(api, body, "/messages")
    starts = [e for e in events if e["type"] == "content_block_start"]
    assert [(e["index"], e["content_block"]["type"]) for e in starts] == [
        (0, "thinking"),
        (1, "text"),
    ]
    deltas = [e for e in events if e["type"] == "content_block_delta"]
    thought = [d["delta"]["thinking"] for d in deltas if d["delta"]["type"] == "thinking_delta"]
    text = [d["delta"]["text"] for d in deltas if d["delta"]["type"] == "text_delta"]
    assert {d["index"] for d in deltas if d["delta"]["type"] == "thinking_delta"} == {0}
    assert "".join(thought) == THOUGHT and "".join(text) == ANSWER


@STYLES
def test_responses_give_the_reasoning_as_a_reasoning_item(api, server, style):
    server.script(thinking_reply(style), thinking_reply(style))
    body = {"model": "default", "input": "Hi"}
    output = post(api, body, "/responses").json()["output"]
    assert [item["type"] for item in output] == ["reasoning", "message"]
    assert output[0]["summary"] == []
    assert output[0]["content"] == [{"type": "reasoning_text", "text": THOUGHT}]
    assert output[1]["content"][0]["text"] == ANSWER

    events = streamed(api, body, "/responses")
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    thought = [e for e in events if e["type"] == "response.reasoning_text.delta"]
    text = [e for e in events if e["type"] == "response.output_text.delta"]
    assert {e["output_index"] for e in thought} == {0} and {e["output_index"] for e in text} == {1}
    assert "".join(e["delta"] for e in thought) == THOUGHT
    assert "".join(e["delta"] for e in text) == ANSWER
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    completed = events[-1]
    assert completed["type"] == "response.completed"
    assert completed["response"]["output"] == done
    assert [item["type"] for item in done] == ["reasoning", "message"]
    assert done[0]["content"] == [{"type": "reasoning_text", "text": THOUGHT}]
