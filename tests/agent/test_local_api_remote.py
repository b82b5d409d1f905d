"""The local API on a server's model (the scripted OpenAI server of tests/support): the model
named in the request is used, ``response_format`` and ``stop`` are passed on, a server's
native tool calls come back in the OpenAI shape, and the caller's tools go to it as they are."""

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
    write_settings(paths, {"generation": DETERMINISTIC_GENERATION, "servers": servers})
    app = App(paths, AppOptions(runtime=FakeEngine.factory(replies=[])))
    app.start(api=False)
    app.api.start(port=0, key=KEY)
    yield app
    app.close()


def post(app: App, body: dict) -> httpx.Response:
    return httpx.post(
        f"{app.api.base_url}/chat/completions", json=body, headers={"x-api-key": KEY}, timeout=30
    )


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
