"""Overflow and crash recovery as the user sees them, with the real model."""

import os
import signal

import pytest
from playwright.sync_api import expect

from tests.conftest import DETERMINISTIC_GENERATION
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import LONG_REPLY_PROMPT, REPLY_TIMEOUT, send, wait_until_ready

LIST = "Remember this list: " + ", ".join(f"item {n}" for n in range(100))


@pytest.fixture
def served_settings():
    return {
        "context": {"n_ctx": 1024, "n_batch": 64},
        "generation": {**DETERMINISTIC_GENERATION, "max_tokens": 128},
    }


def test_trimmed_history_is_marked_and_stays_marked(page):
    wait_until_ready(page)
    send(page, LIST)
    replies = page.get_by_test_id("message-assistant")
    expect(replies.first).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    send(page, LIST.replace("Remember", "Also remember"))
    expect(replies.nth(1)).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    marker = page.get_by_role("note")
    expect(marker).to_have_text(
        "2 older messages were left out so the conversation fits the model's context."
    )
    page.reload()
    wait_until_ready(page)
    expect(page.get_by_role("note")).to_have_count(1)


def test_a_message_larger_than_the_context_is_explained_and_chat_goes_on(page, artifacts_dir):
    wait_until_ready(page)
    send(page, "word " * 3000)
    failed = page.get_by_test_id("message-assistant").first
    expect(failed).to_have_attribute("data-state", "failed", timeout=REPLY_TIMEOUT)
    expect(failed).to_contain_text("the context holds 1024 tokens")
    page.screenshot(path=str(artifacts_dir / "overflow.png"))
    page.get_by_test_id("new-chat-button").click()
    send(page, "Say hi.")
    expect(page.get_by_test_id("message-assistant").first).to_have_attribute(
        "data-state", "done", timeout=REPLY_TIMEOUT
    )


def test_engine_crash_mid_reply_keeps_the_window_and_retry_works(page, artifacts_dir):
    wait_until_ready(page)
    api_call(page, "settings_pane")  # the bridge is reachable with the page's token
    send(page, LONG_REPLY_PROMPT)
    reply = page.get_by_test_id("message-assistant").first
    expect(reply).to_have_attribute("data-state", "streaming", timeout=REPLY_TIMEOUT)
    os.kill(api_call(page, "get_status")["engine_pid"], signal.SIGSEGV)

    expect(reply).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(reply).to_contain_text("crashed (segmentation fault)")
    expect(reply).to_contain_text("Your conversation is safe")
    expect(page.get_by_role("alert").filter(has_text="Restarting")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "crashed.png"))
    expect(page.get_by_test_id("message-user")).to_have_count(1)
    expect(page.get_by_test_id("status-model")).to_contain_text("ready", timeout=60_000)
    expect(page.get_by_role("status").filter(has_text="running again")).to_be_visible()

    page.get_by_role("button", name="Retry").click()
    again = page.get_by_test_id("message-assistant").first
    expect(again).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
