"""The Models pane's Servers end to end, against a scripted OpenAI-compatible server on
loopback (and once against llama-cpp-python's real server): add a server from a preset, pick
and set up its models, use one, chat with it (streamed, stopped, thinking first), and a
server that fails mid-reply, with Retry and Continue on the local model (the scripted local
engine answers)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from localwork.models.registry import bundled_model_path
from tests.conftest import DETERMINISTIC_GENERATION
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import REPLY_TIMEOUT, send, wait_until_ready
from tests.support.llama_server import LLAMA_PYTHON, LlamaServer
from tests.support.openai_server import (
    Answer,
    OpenAIServer,
    Stream,
    chunk,
    model_list,
    text_stream,
)
from tests.support.scripted_engine import add_replies

SHOTS = Path("/work/notes/shots")
KEY = "sk-never-shown-again"
# A name that never resolves: plain http to another machine (warned about), not answering.
FAR_AWAY = "http://lab-vllm.invalid:8000/v1"


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"{name}.png"))
    if SHOTS.is_dir():  # the project's notes, when this runs beside them
        shutil.copy(artifacts_dir / f"{name}.png", SHOTS / f"{name}.png")


@pytest.fixture
def fake_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer().start()
    server.models = model_list("alpha-8b", "beta-3b")
    yield server
    server.close()


@pytest.fixture
def served_settings(fake_server: OpenAIServer) -> dict:
    return {"generation": {**DETERMINISTIC_GENERATION, "max_tokens": 200}}


def open_servers(page: Page) -> Locator:
    page.get_by_role("button", name="Models", exact=True).click()
    pane = page.get_by_role("dialog", name="Models")
    expect(pane).to_be_visible()
    pane.get_by_test_id("servers-tab").click()
    expect(pane.get_by_test_id("servers-panel")).to_be_visible()
    return pane


def last_reply(page: Page) -> Locator:
    return page.get_by_test_id("message-assistant").last


def test_add_a_server_use_its_model_chat_stop_and_think(
    script, page: Page, fake_server: OpenAIServer, artifacts_dir
):
    wait_until_ready(page)
    pane = open_servers(page)
    expect(pane.get_by_test_id("servers-empty")).to_be_visible()
    presets = pane.get_by_test_id("server-preset")
    expect(presets).to_have_count(5)
    pane.get_by_role("button", name="Fill in the address of llama-server").click()
    expect(pane.get_by_test_id("add-server-url")).to_have_value("http://127.0.0.1:8080/v1")
    pane.get_by_test_id("add-server-name").fill("gpu-box")
    pane.get_by_test_id("add-server-url").fill(fake_server.url)
    pane.get_by_test_id("add-server-key").fill(KEY)
    pane.get_by_test_id("add-server-submit").click()

    server = pane.get_by_test_id("server-item")
    expect(server).to_have_count(1)
    expect(server.get_by_test_id("server-key-badge")).to_have_text("key saved")
    expect(server.get_by_test_id("server-unencrypted")).to_have_count(0)  # loopback
    expect(server.get_by_test_id("server-state")).to_have_text("Ready with 2 models")
    expect(pane.get_by_test_id("add-server-key")).to_have_value("")
    picker = server.get_by_test_id("server-model-pick")
    expect(picker.locator("option")).to_have_text(["alpha-8b", "beta-3b"])
    picker.select_option("beta-3b")
    server.get_by_test_id("server-model-add").click()
    model = server.get_by_test_id("server-model")
    expect(model).to_have_count(1)
    expect(model.get_by_test_id("server-model-context")).to_have_value("8192")
    expect(picker.locator("option")).to_have_text(["alpha-8b"])

    # The tool test: this model answers in text, so tools go in the prompt.
    fake_server.script(text_stream("It is noon."))
    model.get_by_test_id("server-model-test").click()
    expect(model.get_by_test_id("server-model-test-detail")).to_contain_text("in the prompt")
    expect(model.get_by_test_id("server-model-tools")).to_have_value("prompt")
    model.get_by_test_id("server-model-context").fill("16384")
    model.get_by_test_id("server-model-context").press("Enter")
    expect(pane.get_by_test_id("models-message")).to_contain_text("16,384 tokens")
    model.get_by_test_id("server-model-reasoning").uncheck()
    expect(pane.get_by_test_id("models-message")).to_contain_text("not to let beta-3b think")
    saved = api_call(page, "list_servers")["servers"][0]["models"][0]
    assert saved == {
        "id": "beta-3b",
        "context_length": 16384,
        "tools": "prompt",
        "reasoning": False,
    }
    model.get_by_test_id("server-model-reasoning").check()

    model.get_by_test_id("server-model-use").click()
    expect(model.get_by_test_id("server-model-selected")).to_have_text("In use")
    status = page.get_by_test_id("status-model")
    expect(status).to_have_text("beta-3b on gpu-box (remote) — ready")
    expect(status).to_have_attribute(
        "title", f"context 16384 tokens · gpu-box at {fake_server.url}"
    )
    pane.get_by_test_id("models-tab").click()
    expect(pane.get_by_test_id("selected-badge")).to_have_count(0)  # no local model in use
    assert KEY not in page.content()
    pane.get_by_test_id("models-close").click()

    # A reply streams in.
    fake_server.script(text_stream("Hello", " from", " the", " server.", gap=0.05))
    send(page, "Hello?")
    reply = last_reply(page)
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(reply.get_by_test_id("message-text")).to_have_text("Hello from the server.")
    expect(reply.get_by_test_id("reasoning")).to_be_hidden()
    sent = fake_server.chat_requests()[-1]
    assert sent.body["model"] == "beta-3b"
    assert sent.headers["authorization"] == f"Bearer {KEY}"

    # Stop mid-reply: what came so far is kept, marked stopped.
    fake_server.script(text_stream(*[f"word{n} " for n in range(200)], gap=0.05))
    send(page, "Tell me a long story.")
    reply = page.get_by_test_id("message-assistant").nth(1)
    expect(reply).to_have_attribute("data-state", "streaming", timeout=REPLY_TIMEOUT)
    expect(reply.get_by_test_id("message-text")).to_contain_text("word3")
    page.get_by_role("button", name="Stop generating").click()
    expect(reply).to_have_attribute("data-state", "stopped", timeout=10_000)
    expect(reply.get_by_test_id("message-meta")).to_contain_text("stopped")
    assert fake_server.wait_for_disconnects(1)

    # Thinking first: the reasoning streams into a closed fold above the answer.
    thoughts = ["Two ", "and ", "two ", "make ", "four, ", "<b>surely</b>."]
    fake_server.script(
        Stream(
            [chunk(reasoning_content=piece) for piece in thoughts]
            + [chunk("Four."), chunk(finish_reason="stop")],
            gap=0.3,
        )
    )
    send(page, "What is 2+2?")
    reply = page.get_by_test_id("message-assistant").nth(2)
    fold = reply.get_by_test_id("reasoning")
    expect(fold.get_by_test_id("reasoning-summary")).to_have_text(
        "Thinking…", timeout=REPLY_TIMEOUT
    )
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(reply.get_by_test_id("message-text")).to_have_text("Four.")
    expect(fold.get_by_test_id("reasoning-summary")).to_have_text(
        re.compile(r"^Thought for [\d.]+ s$")
    )
    expect(fold).not_to_have_attribute("open", "")
    expect(fold.get_by_test_id("reasoning-text")).to_be_hidden()
    fold.get_by_test_id("reasoning-summary").click()
    expect(fold.get_by_test_id("reasoning-text")).to_have_text("".join(thoughts))  # as text
    expect(fold.locator("b")).to_have_count(0)
    shot(page, artifacts_dir, "reasoning")

    # Text that turns out to be reasoning (a lone </think>) moves into the fold.
    fake_server.script(text_stream("Adding two and two", ".</think>", "Four again.", gap=0.2))
    send(page, "And again?")
    reply = page.get_by_test_id("message-assistant").nth(3)
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(reply.get_by_test_id("message-text")).to_have_text("Four again.")
    expect(reply.get_by_test_id("reasoning-text")).to_have_text(re.compile("Adding two and two"))

    # Stored: the same fold after a reload, closed.
    page.reload()
    wait_until_ready(page)
    reply = page.get_by_test_id("message-assistant").nth(2)
    fold = reply.get_by_test_id("reasoning")
    expect(fold.get_by_test_id("reasoning-summary")).to_have_text(
        re.compile(r"^Thought for [\d.]+ s$")
    )
    expect(fold.get_by_test_id("reasoning-text")).to_be_hidden()
    expect(reply.get_by_test_id("message-text")).to_have_text("Four.")
    expect(page.get_by_test_id("status-model")).to_contain_text("beta-3b on gpu-box (remote)")


def test_a_server_without_a_model_list_takes_a_typed_model_id(
    script, page: Page, fake_server: OpenAIServer
):
    fake_server.models = Answer(status=404)
    wait_until_ready(page)
    pane = open_servers(page)
    pane.get_by_role("button", name="Fill in the address of Ollama").click()
    expect(pane.get_by_test_id("add-server-name")).to_have_value("ollama")
    pane.get_by_test_id("add-server-url").fill(fake_server.url)
    pane.get_by_test_id("add-server-submit").click()
    server = pane.get_by_test_id("server-item")
    expect(server.get_by_test_id("server-state")).to_contain_text("does not list its models")
    expect(server.get_by_test_id("server-key-badge")).to_have_count(0)
    expect(server.get_by_test_id("server-model-note")).not_to_be_empty()
    expect(server.get_by_test_id("server-model-pick")).to_have_count(0)
    server.get_by_test_id("server-model-id").fill("qwen3:8b")
    server.get_by_test_id("server-model-add").click()
    expect(server.get_by_test_id("server-model")).to_have_attribute("data-model", "qwen3:8b")
    expect(server.get_by_test_id("server-model-context")).to_have_value("8192")


@pytest.fixture
def set_up_servers(fake_server: OpenAIServer) -> dict:
    """gpu-box (the scripted server, with a key and two models, one in use) and lab-vllm
    (plain http to another machine, which does not answer)."""
    return {
        "generation": {**DETERMINISTIC_GENERATION, "max_tokens": 200},
        "servers": [
            {
                "name": "gpu-box",
                "base_url": fake_server.url,
                "api_key": KEY,
                "models": [
                    {"id": "alpha-8b", "context_length": 32768, "tools": "native"},
                    {
                        "id": "beta-3b",
                        "context_length": 8192,
                        "tools": "prompt",
                        "reasoning": False,
                    },
                ],
            },
            {"name": "lab-vllm", "base_url": FAR_AWAY, "models": []},
        ],
        "selected_model": "gpu-box/alpha-8b",
    }


class TestSetUpServers:
    @pytest.fixture
    def served_settings(self, set_up_servers: dict) -> dict:
        return set_up_servers

    def test_the_pane_shows_each_server_its_models_and_the_unencrypted_one(
        self, script, page: Page, artifacts_dir
    ):
        wait_until_ready(page)
        expect(page.get_by_test_id("status-model")).to_have_text(
            "alpha-8b on gpu-box (remote) — ready"
        )
        pane = open_servers(page)
        servers = pane.get_by_test_id("server-item")
        expect(servers).to_have_count(2)
        gpu, lab = servers.nth(0), servers.nth(1)
        expect(gpu.get_by_test_id("server-key-badge")).to_be_visible()
        expect(gpu.get_by_test_id("server-unencrypted")).to_have_count(0)
        expect(gpu.get_by_test_id("server-model")).to_have_count(2)
        alpha, beta = (
            gpu.get_by_test_id("server-model").nth(0),
            gpu.get_by_test_id("server-model").nth(1),
        )
        expect(alpha.get_by_test_id("server-model-selected")).to_have_text("In use")
        expect(beta.get_by_test_id("server-model-use")).to_be_visible()
        expect(alpha.get_by_test_id("server-model-context")).to_have_value("32768")
        expect(beta.get_by_test_id("server-model-tools")).to_have_value("prompt")
        expect(beta.get_by_test_id("server-model-reasoning")).not_to_be_checked()
        expect(gpu.get_by_test_id("server-state")).to_have_text("Ready with 2 models")
        expect(gpu.get_by_test_id("server-model-pick")).to_have_count(0)  # both set up already
        expect(lab.get_by_test_id("server-key-badge")).to_have_count(0)
        expect(lab.get_by_test_id("server-unencrypted")).to_contain_text(
            "Traffic to this server is not encrypted"
        )
        expect(lab.get_by_test_id("server-state")).to_have_attribute(
            "data-state", "failed", timeout=20_000
        )
        assert KEY not in page.content()
        shot(page, artifacts_dir, "servers-pane")

        # Using a local model again takes the server's mark away.
        beta.get_by_test_id("server-model-use").click()
        expect(beta.get_by_test_id("server-model-selected")).to_be_visible()
        pane.get_by_test_id("models-tab").click()
        pane.get_by_role("button", name=re.compile("^Use ")).first.click()
        expect(page.get_by_test_id("status-model")).not_to_contain_text(
            "(remote)", timeout=REPLY_TIMEOUT
        )
        pane.get_by_test_id("servers-tab").click()
        expect(pane.get_by_test_id("server-model-selected")).to_have_count(0)

    def test_a_server_failing_mid_reply_offers_retry_and_continue_on_the_local_model(
        self, script, page: Page, fake_server: OpenAIServer, artifacts_dir
    ):
        wait_until_ready(page)
        fake_server.script(
            text_stream(
                "The start of", " an answer", " that never ends", " well.", drop_after=3, gap=0.1
            )
        )
        send(page, "Explain DNS.")
        reply = last_reply(page)
        expect(reply).to_have_attribute("data-state", "failed", timeout=REPLY_TIMEOUT)
        expect(reply.get_by_test_id("message-text")).to_have_text(
            "The start of an answer that never ends"
        )
        expect(reply.get_by_test_id("failure-reason")).not_to_be_empty()
        expect(reply.get_by_role("button", name="Retry")).to_be_visible()
        expect(reply.get_by_role("button", name="Continue on the local model")).to_be_visible()
        shot(page, artifacts_dir, "remote-failed")

        # The partial text and both buttons survive a reload.
        page.reload()
        wait_until_ready(page)
        reply = last_reply(page)
        expect(reply.get_by_test_id("message-text")).to_have_text(
            "The start of an answer that never ends"
        )
        expect(reply.get_by_test_id("continue-locally-button")).to_be_visible()

        # The server is gone now: Retry fails again, and says so.
        fake_server.close()
        reply.get_by_role("button", name="Retry").click()
        reply = last_reply(page)
        expect(reply).to_have_attribute("data-state", "failed", timeout=REPLY_TIMEOUT)
        expect(reply.get_by_test_id("failure-reason")).not_to_be_empty()
        expect(page.get_by_test_id("message-assistant")).to_have_count(1)

        add_replies(script, [{"text": "A local answer about DNS."}])
        reply.get_by_role("button", name="Continue on the local model").click()
        reply = last_reply(page)
        expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
        expect(reply.get_by_test_id("message-text")).to_have_text("A local answer about DNS.")
        expect(page.get_by_test_id("message-assistant")).to_have_count(1)
        expect(page.get_by_test_id("status-model")).to_contain_text("ready")
        expect(page.get_by_test_id("status-model")).not_to_contain_text("(remote)")


@pytest.fixture
def llama_server() -> Iterator[LlamaServer]:
    model = bundled_model_path()
    if not LLAMA_PYTHON.exists() or model is None:
        pytest.skip(f"llama-cpp-python's server is not installed ({LLAMA_PYTHON})")
    with LlamaServer(model) as server:
        yield server


class TestRealServer:
    @pytest.fixture
    def served_settings(self, llama_server: LlamaServer) -> dict:
        return {"generation": {**DETERMINISTIC_GENERATION, "max_tokens": 24}}

    def test_llama_cpp_server_added_in_the_pane_answers_the_chat(
        self, page: Page, llama_server: LlamaServer
    ):
        wait_until_ready(page)
        pane = open_servers(page)
        pane.get_by_test_id("add-server-name").fill("llama")
        pane.get_by_test_id("add-server-url").fill(llama_server.base_url)
        pane.get_by_test_id("add-server-submit").click()
        server = pane.get_by_test_id("server-item")
        expect(server.get_by_test_id("server-state")).to_have_attribute(
            "data-state", "ready", timeout=20_000
        )
        expect(server.get_by_test_id("server-model-pick").locator("option")).to_have_count(1)
        server.get_by_test_id("server-model-add").click()
        server.get_by_test_id("server-model-use").click()
        expect(server.get_by_test_id("server-model-selected")).to_be_visible()
        expect(page.get_by_test_id("status-model")).to_contain_text("on llama (remote) — ready")
        pane.get_by_test_id("models-close").click()
        send(page, "Say hello.")
        reply = last_reply(page)
        expect(reply).to_have_attribute(
            "data-state", re.compile("done|stopped"), timeout=REPLY_TIMEOUT
        )
        expect(reply.get_by_test_id("message-text")).not_to_be_empty()
