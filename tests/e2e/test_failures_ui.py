"""Failures as the user sees them, with the scripted engine: a failed reply keeps its reason
and advice across a reload, the context meter counts what the conversation holds, the crash
guard's chat and status line agree, and the status line names a model while it loads."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from localwork.models.registry import bundled_model_path
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import REPLY_TIMEOUT, send, wait_until_ready
from tests.support.scripted_engine import LOAD_DELAY_VARIABLE, add_replies

SHOTS = Path("/work/notes/shots")
# The scripted engine counts a token per 4 characters; Auto context is the model's 8,192.
TOKENS_33K = "word " * (33_000 * 4 // 5)


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"{name}.png"))
    if SHOTS.is_dir():  # the project's notes, when this runs beside them
        shutil.copy(artifacts_dir / f"{name}.png", SHOTS / f"navfail-{name}.png")


def last_reply(page: Page):
    return page.get_by_test_id("message-assistant").last


def context_tokens(page: Page) -> int:
    text = page.get_by_test_id("context-text").text_content()
    return int(re.search(r"context ([\d,]+) /", text).group(1).replace(",", ""))


def test_a_failed_reply_keeps_its_reason_and_advice_after_a_reload(script, page, artifacts_dir):
    wait_until_ready(page)
    send(page, TOKENS_33K)
    failed = last_reply(page)
    expect(failed).to_have_attribute("data-state", "failed", timeout=REPLY_TIMEOUT)
    expect(failed.get_by_test_id("failure-reason")).to_contain_text("This message does not fit")
    expect(page.get_by_test_id("context-text")).to_contain_text("/ 8,192 tokens")
    expect(page.get_by_test_id("context-text")).not_to_contain_text("context 0 /")
    assert context_tokens(page) > 33_000

    page.reload()
    wait_until_ready(page)
    failed = last_reply(page)
    expect(failed).to_have_attribute("data-state", "failed")
    expect(failed.get_by_test_id("failure-reason")).to_contain_text("This message does not fit")
    advice = failed.get_by_test_id("failure-advice")
    expect(advice).to_contain_text("This model takes at most 8,192 tokens at once")
    expect(advice).to_contain_text("choose a model with a longer context in Models")
    expect(advice).not_to_contain_text("raise the context length")
    expect(failed.get_by_role("button", name="Retry")).to_have_count(0)  # it cannot change
    expect(failed.get_by_role("button", name="Regenerate reply")).to_be_hidden()
    assert context_tokens(page) > 33_000
    shot(page, artifacts_dir, "failed-after-reload")


def test_a_retryable_failure_offers_retry_after_a_reload(script, page):
    wait_until_ready(page)
    send(page, "Hello?")  # the script has no reply for it: the engine reports an error
    expect(last_reply(page)).to_have_attribute("data-state", "failed", timeout=REPLY_TIMEOUT)
    add_replies(script, [{"text": "not used"}, {"text": "Hello there."}])
    page.reload()
    wait_until_ready(page)
    expect(last_reply(page).get_by_test_id("failure-reason")).to_contain_text("no reply number 1")
    last_reply(page).get_by_role("button", name="Retry").click()
    expect(last_reply(page)).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    expect(last_reply(page)).to_have_text(re.compile("Hello there."))


def test_the_crash_guard_says_the_same_in_chat_and_status_and_restart_works(
    script, page, artifacts_dir
):
    add_replies(script, [{"crash": "SIGSEGV"}] * 3 + [{"text": "Back again."}])
    wait_until_ready(page)
    status = page.get_by_test_id("status-model")
    send(page, "Hello")
    for attempt in range(3):
        reply = last_reply(page)
        expect(reply).to_have_attribute("data-state", "failed", timeout=REPLY_TIMEOUT)
        if attempt < 2:
            expect(reply).to_contain_text("the model is restarting")
            expect(status).to_contain_text("ready", timeout=REPLY_TIMEOUT)
            reply.get_by_role("button", name="Retry").click()

    expect(status).to_contain_text("so it was not restarted", timeout=REPLY_TIMEOUT)
    reply = last_reply(page)
    expect(reply).to_contain_text("not restarted")
    expect(reply).not_to_contain_text("restarting")
    expect(reply.get_by_test_id("failure-advice")).to_contain_text("Restart the model")
    expect(page.get_by_role("alert").filter(has_text="Restarting")).to_have_count(0)
    expect(page.get_by_role("alert").filter(has_text="running again")).to_have_count(0)
    expect(page.get_by_test_id("context-text")).to_have_text("context ? / 8,192 tokens")
    restart = page.get_by_role("button", name="Restart the model")
    expect(restart).to_be_visible()
    shot(page, artifacts_dir, "crash-guard")

    restart.click()
    expect(status).to_contain_text("ready", timeout=REPLY_TIMEOUT)
    expect(restart).to_be_hidden()
    reply.get_by_role("button", name="Retry").click()
    expect(last_reply(page)).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(last_reply(page)).to_contain_text("Back again.")


@pytest.fixture
def slow_loads(monkeypatch: pytest.MonkeyPatch, paths) -> Path:
    """Each load takes 2 s, and a second model is installed; request it before ``page``."""
    monkeypatch.setenv(LOAD_DELAY_VARIABLE, "2")
    other = paths.models_dir / "Other-Model.gguf"
    shutil.copyfile(bundled_model_path(), other)
    return other


def test_the_status_line_names_the_model_being_loaded(script, slow_loads, page):
    wait_until_ready(page)
    status = page.get_by_test_id("status-model")
    expect(status).to_contain_text("SmolLM2")
    chosen = api_call(page, "select_model", model_id="local/Other-Model.gguf")
    assert chosen == {"needs_confirmation": False, "selected": "local/Other-Model.gguf"}
    expect(status).to_contain_text("Other-Model")
    expect(status).to_contain_text("loading")
    expect(status).not_to_contain_text("SmolLM2")
    expect(status).to_contain_text("ready", timeout=REPLY_TIMEOUT)
    expect(status).to_contain_text("Other-Model")
