"""The local API against the real SmolLM2, driven by the official ``openai`` and ``anthropic``
clients (installed by ``build/setup.sh`` into ``.cache/test-servers/clients-venv``, each run as
a script of its own) and by plain HTTP for the security and failure cases. Structure only,
never wording."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from localwork.app import App
from localwork.transports.bridge import Bridge

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENTS = REPO_ROOT / ".cache" / "test-servers" / "clients-venv" / "bin" / "python"
KEY = "test-key-0123456789abcdef"
COUNTING = "Count from 1 to 500, separated by commas: 1, 2, 3, 4,"


@pytest.fixture
def api(start_app: Callable[..., App]) -> Iterator[App]:
    app = start_app()
    app.api.start(port=0, key=KEY)
    yield app
    app.api.stop()


def base(app: App) -> str:
    assert app.api.base_url is not None
    return app.api.base_url


def client_script(app: App, code: str, timeout: float = 120) -> Any:
    """Run ``code`` with the official clients; it prints one JSON value, returned here."""
    if not CLIENTS.exists():
        pytest.fail("The API clients are not installed: run build/setup.sh test.")
    env = {**os.environ, "BASE_URL": base(app), "API_KEY": KEY}
    done = subprocess.run(
        [str(CLIENTS), "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def post(app: App, path: str, body: Any, **headers: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}", **headers}
    return httpx.post(f"{base(app)}{path}", json=body, headers=headers, timeout=60)


# --- the official openai client -------------------------------------------------------------


def test_openai_chat_completion_has_text_and_usage(api):
    got = client_script(
        api,
        """
        import json, os, openai
        client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"])
        reply = client.chat.completions.create(
            model="default", messages=[{"role": "user", "content": "Say hello."}], max_tokens=16
        )
        print(json.dumps({"content": reply.choices[0].message.content,
                          "finish": reply.choices[0].finish_reason,
                          "usage": reply.usage.model_dump(), "model": reply.model}))
        """,
    )
    assert isinstance(got["content"], str) and got["content"]
    assert got["finish"] in ("stop", "length")
    assert got["usage"]["prompt_tokens"] > 0 and 0 < got["usage"]["completion_tokens"] <= 16
    assert got["model"].startswith("bundled/")


def test_openai_stream_with_usage(api):
    got = client_script(
        api,
        """
        import json, os, openai
        client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"])
        with client.chat.completions.stream(
            model="default", messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=200, stop=["."], stream_options={"include_usage": True},
        ) as stream:
            pieces = [e.delta for e in stream if e.type == "content.delta"]
            final = stream.get_final_completion()
        print(json.dumps({"pieces": len(pieces), "text": final.choices[0].message.content,
                          "usage": final.usage.model_dump()}))
        """,
    )
    assert got["pieces"] >= 1 and got["text"]
    assert got["usage"]["completion_tokens"] > 0


def test_openai_text_completion_whole_and_streamed(api):
    got = client_script(
        api,
        """
        import json, os, openai
        client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"])
        whole = client.completions.create(
            model="default", prompt="The capital of France is", max_tokens=8, temperature=0
        )
        pieces = [c.choices[0].text for c in client.completions.create(
            model="default", prompt="Once upon a time", max_tokens=12, stream=True,
            stream_options={"include_usage": True},
        ) if c.choices]
        print(json.dumps({"text": whole.choices[0].text, "finish": whole.choices[0].finish_reason,
                          "usage": whole.usage.model_dump(), "pieces": pieces}))
        """,
    )
    assert got["text"] and got["finish"] in ("stop", "length")
    assert got["usage"]["completion_tokens"] >= 1 and got["usage"]["prompt_tokens"] >= 1
    assert len(got["pieces"]) >= 2 and "".join(got["pieces"]).strip()


def test_openai_named_tool_choice_returns_that_call(api):
    got = client_script(
        api,
        """
        import json, os, openai
        client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"])
        tools = [{"type": "function", "function": {"name": "get_weather",
                  "description": "The weather in a city",
                  "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                 "required": ["city"]}}},
                 {"type": "function", "function": {"name": "get_time",
                  "description": "The time", "parameters": {"type": "object", "properties": {}}}}]
        choice = {"type": "function", "function": {"name": "get_weather"}}
        messages = [{"role": "user", "content": "What is the weather in Paris?"}]
        whole = client.chat.completions.create(model="default", messages=messages, tools=tools,
                                               tool_choice=choice, max_tokens=64)
        with client.chat.completions.stream(model="default", messages=messages, tools=tools,
                                            tool_choice=choice, max_tokens=64) as stream:
            streamed = stream.get_final_completion()
        def calls(reply):
            return [{"id": c.id, "name": c.function.name,
                     "arguments": json.loads(c.function.arguments)}
                    for c in reply.choices[0].message.tool_calls or []]
        print(json.dumps({"whole": calls(whole), "streamed": calls(streamed),
                          "finish": whole.choices[0].finish_reason}))
        """,
    )
    for calls in (got["whole"], got["streamed"]):
        assert len(calls) == 1
        assert calls[0]["name"] == "get_weather" and calls[0]["id"]
        assert isinstance(calls[0]["arguments"], dict)
    assert got["finish"] == "tool_calls"


def test_openai_parse_with_a_pydantic_model(api):
    got = client_script(
        api,
        """
        import json, os, openai, pydantic
        class City(pydantic.BaseModel):
            name: str
            population: int
        client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"])
        reply = client.chat.completions.parse(
            model="default", messages=[{"role": "user", "content": "Describe Paris as JSON."}],
            response_format=City, max_tokens=96,
        )
        parsed = reply.choices[0].message.parsed
        print(json.dumps({"parsed": parsed.model_dump() if parsed else None}))
        """,
    )
    assert got["parsed"] is not None
    assert isinstance(got["parsed"]["name"], str) and isinstance(got["parsed"]["population"], int)


def test_openai_responses_create_whole_and_streamed(api):
    got = client_script(
        api,
        """
        import json, os, openai
        client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"])
        whole = client.responses.create(model="default", instructions="Be brief.",
                                        input="Say hello.", max_output_tokens=16)
        events = [e.type for e in client.responses.create(
            model="default", input="Say hello.", max_output_tokens=8, stream=True)]
        print(json.dumps({"text": whole.output_text, "status": whole.status,
                          "usage": whole.usage.output_tokens, "events": events}))
        """,
    )
    assert got["text"] and got["status"] == "completed" and got["usage"] > 0
    assert got["events"][0] == "response.created" and got["events"][-1] == "response.completed"
    assert "response.output_text.delta" in got["events"]


# --- the official anthropic client ---------------------------------------------------------


def test_anthropic_messages_whole_streamed_and_tool_use(api):
    got = client_script(
        api,
        """
        import json, os, anthropic
        client = anthropic.Anthropic(base_url=os.environ["BASE_URL"].removesuffix("/v1"),
                                     api_key=os.environ["API_KEY"])
        whole = client.messages.create(model="default", max_tokens=16, system="Be brief.",
                                       messages=[{"role": "user", "content": "Say hello."}])
        with client.messages.stream(model="default", max_tokens=8,
                                    messages=[{"role": "user", "content": "Say hello."}]) as s:
            streamed_text = "".join(s.text_stream)
            final = s.get_final_message()
        tools = [{"name": "get_weather", "description": "The weather in a city",
                  "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                                   "required": ["city"]}}]
        used = client.messages.create(
            model="default", max_tokens=64, tools=tools,
            tool_choice={"type": "tool", "name": "get_weather"},
            messages=[{"role": "user", "content": "Weather in Paris?"}])
        block = next(b for b in used.content if b.type == "tool_use")
        with client.messages.stream(
            model="default", max_tokens=64, tools=tools,
            tool_choice={"type": "tool", "name": "get_weather"},
            messages=[{"role": "user", "content": "Weather in Paris?"}]) as s:
            streamed_use = next(b for b in s.get_final_message().content if b.type == "tool_use")
        counted = client.messages.count_tokens(
            model="default", messages=[{"role": "user", "content": "Say hello."}])
        print(json.dumps({
            "text": whole.content[0].text, "stop": whole.stop_reason,
            "usage": whole.usage.output_tokens, "streamed": streamed_text,
            "final_stop": final.stop_reason, "tool": block.name, "input": block.input,
            "tool_stop": used.stop_reason, "streamed_tool": streamed_use.name,
            "streamed_input": streamed_use.input, "counted": counted.input_tokens}))
        """,
    )
    assert got["text"] and got["stop"] in ("end_turn", "max_tokens") and got["usage"] > 0
    assert got["streamed"] and got["final_stop"] in ("end_turn", "max_tokens")
    assert got["tool"] == "get_weather" and isinstance(got["input"], dict)
    assert got["tool_stop"] == "tool_use"
    assert got["streamed_tool"] == "get_weather" and isinstance(got["streamed_input"], dict)
    assert got["counted"] > 0


# --- security and failures ------------------------------------------------------------------


def test_a_missing_or_wrong_key_gets_401_in_each_shape(api):
    url = f"{base(api)}/models"
    assert httpx.get(url).status_code == 401
    wrong = httpx.get(url, headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
    assert httpx.get(url, headers={"x-api-key": KEY}).status_code == 200
    anthropic_shape = httpx.post(f"{base(api)}/messages", json={}, headers={"x-api-key": "no"})
    assert anthropic_shape.status_code == 401
    assert anthropic_shape.json()["type"] == "error"
    # The log shows the refused requests too, though no endpoint saw them.
    refused = [row for row in api.api.service.log.rows(0, 100) if row["status"] == 401]
    assert [row["endpoint"] for row in refused] == [
        "GET /v1/models",
        "GET /v1/models",
        "POST /v1/messages",
    ]
    assert all(row["client"].startswith("127.0.0.1:") for row in refused)


def test_a_foreign_host_is_refused(api):
    reply = httpx.get(
        f"{base(api)}/models", headers={"Authorization": f"Bearer {KEY}", "Host": "evil.test"}
    )
    assert reply.status_code == 403


def test_a_foreign_origin_is_refused_and_a_listed_one_gets_cors(api):
    headers = {"Authorization": f"Bearer {KEY}", "Origin": "https://evil.test"}
    refused = httpx.get(f"{base(api)}/models", headers=headers)
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    api.settings.update({"local_api": {"cors_origins": ["http://localhost:3000"]}})
    allowed = httpx.get(
        f"{base(api)}/models", headers={**headers, "Origin": "http://localhost:3000"}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_a_huge_or_deep_body_is_refused(api):
    huge = "x" * (5 * 1024 * 1024)
    reply = post(api, "/chat/completions", {"messages": [{"role": "user", "content": huge}]})
    assert reply.status_code == 413 and reply.json()["error"]["message"]
    deep = httpx.post(
        f"{base(api)}/chat/completions",
        content=b"[" * 10_000 + b"]" * 10_000,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert deep.status_code == 400


def test_an_over_context_prompt_gets_400_with_the_numbers(api):
    long = "word " * 20_000
    reply = post(api, "/chat/completions", {"messages": [{"role": "user", "content": long}]})
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == "context_length_exceeded" and any(c.isdigit() for c in error["message"])
    streamed = post(
        api,
        "/chat/completions",
        {"messages": [{"role": "user", "content": long}], "stream": True},
    )
    assert streamed.status_code == 400


def test_an_unknown_model_gets_404(api):
    reply = post(
        api, "/chat/completions", {"model": "nope", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "model_not_found"
    assert httpx.get(f"{base(api)}/models/nope", headers={"x-api-key": KEY}).status_code == 404


def test_a_caller_that_will_not_wait_for_a_load_gets_503(api):
    api.runtime.load(None)  # the same model again: it is loading now
    hello = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
    refused = post(api, "/chat/completions", hello, Prefer="wait=0")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "model_loading"
    waited = post(api, "/chat/completions", hello)  # without it, the request waits for the load
    assert waited.status_code == 200


def test_models_lists_the_installed_model_with_its_context(api):
    listed = httpx.get(f"{base(api)}/models", headers={"x-api-key": KEY}).json()["data"]
    assert listed[0]["id"].startswith("bundled/") and listed[0]["context_length"] > 0
    one = httpx.get(f"{base(api)}/models/{listed[0]['id']}", headers={"x-api-key": KEY})
    assert one.json()["id"] == listed[0]["id"]


def test_a_client_that_disconnects_mid_stream_stops_the_generation(api):
    body = {
        "messages": [{"role": "user", "content": COUNTING}],
        "max_tokens": 2000,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.stream(
        "POST", f"{base(api)}/chat/completions", json=body, headers=headers, timeout=60
    ) as stream:
        lines = stream.iter_lines()
        seen = 0
        for line in lines:
            seen += line.startswith("data: ")
            if seen >= 4:
                break
    deadline = time.monotonic() + 10
    while api.engine_turns.holder() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.engine_turns.holder() is None  # the engine is free long before 2000 tokens
    stats = api.runtime.status()["last_stats"]
    assert stats is not None and stats["stop_reason"] == "cancelled"
    assert stats["completion_tokens"] < 2000
    rows = api.api.service.log.rows()
    assert rows[-1]["status"] == 499


def test_four_concurrent_clients_are_served_in_order(api):
    finished: list[int] = []
    lock = threading.Lock()

    def ask(number: int) -> None:
        reply = post(
            api,
            "/chat/completions",
            {"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 24},
        )
        assert reply.status_code == 200
        with lock:
            finished.append(number)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
        time.sleep(0.3)  # each asks after the one before: the queue keeps that order
    for thread in threads:
        thread.join(120)
    assert finished == [0, 1, 2, 3]


def test_the_window_chat_answers_while_an_api_stream_runs(api, watch):
    events = watch(api.events)
    body = {"messages": [{"role": "user", "content": COUNTING}], "max_tokens": 300, "stream": True}
    statuses: list[int] = []

    def stream() -> None:
        with httpx.stream(
            "POST",
            f"{base(api)}/chat/completions",
            json=body,
            headers={"x-api-key": KEY},
            timeout=120,
        ) as reply:
            statuses.append(reply.status_code)
            for _ in reply.iter_lines():
                pass

    streaming = threading.Thread(target=stream)
    streaming.start()
    deadline = time.monotonic() + 20
    while api.engine_turns.holder() != "api" and time.monotonic() < deadline:
        time.sleep(0.02)
    began = time.monotonic()
    bridge = Bridge(api)
    assert bridge.dispatch("get_status", {})["ok"]
    assert bridge.dispatch("api_status", {})["data"]["serving"]  # the status line's words
    sent = api.chat.send(None, "Say hello.")  # the bridge's call returns at once
    assert time.monotonic() - began < 1.0
    assert api.api.service.serving()["serving"]
    done = events.wait_for("reply_done", timeout=180)
    assert done["conversation_id"] == sent["conversation"]["id"] and done["message"]
    streaming.join(120)
    assert statuses == [200]


# --- the command line -----------------------------------------------------------------------


def test_api_command_prints_the_base_url_first_and_exits_0_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "backend"), str(REPO_ROOT)]),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "localwork",
            "--api",
            "--api-port",
            "0",
            "--api-key",
            KEY,
            "--data-dir",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:") and first.endswith("/v1")
        port = int(first.removeprefix("http://127.0.0.1:").removesuffix("/v1"))
        assert port > 0
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        listed = httpx.get(f"{first}/models", headers={"x-api-key": KEY}, timeout=30)
        assert listed.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
