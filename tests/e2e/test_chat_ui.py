"""The chat screen end to end: real UI, real bridge over HTTP, real model."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import start_server, stop_server
from tests.support.prompts import LONG_REPLY_PROMPT

MODEL_READY_TIMEOUT = 90_000
REPLY_TIMEOUT = 60_000

RECORD_STREAMING = """() => {
  window.__textLengths = [];
  const messages = document.querySelector('[data-testid="messages"]');
  new MutationObserver(() => {
    const replies = messages.querySelectorAll('[data-testid="message-assistant"]');
    const last = replies[replies.length - 1];
    if (!last) return;
    window.__textLengths.push(last.querySelector('[data-testid="message-text"]').textContent.length);
  }).observe(messages, {subtree: true, childList: true, characterData: true});
}"""


def wait_until_ready(page: Page) -> None:
    status = page.get_by_test_id("status-model")
    expect(status).to_contain_text("ready", timeout=MODEL_READY_TIMEOUT)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def send(page: Page, text: str) -> None:
    composer = page.get_by_role("textbox", name="Message")
    composer.fill(text)
    composer.press("Enter")


def test_chat_streams_a_reply_and_the_conversation_survives_a_reload(page, artifacts_dir):
    wait_until_ready(page)
    page.evaluate(RECORD_STREAMING)
    send(page, "Hello! What is 2+2?")

    expect(page.get_by_test_id("message-user").first.get_by_test_id("message-text")).to_have_text(
        "Hello! What is 2+2?"
    )
    reply = page.get_by_test_id("message-assistant").first
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(reply.get_by_test_id("message-text")).not_to_be_empty()
    lengths = page.evaluate("window.__textLengths")
    assert len(set(lengths)) >= 3, f"the reply did not stream in pieces: {lengths}"
    expect(page.get_by_test_id("status-speed")).to_contain_text("tok/s")
    expect(reply.get_by_test_id("message-meta")).to_contain_text("tok/s")

    send(page, "And what is 3+3?")
    second = page.get_by_test_id("message-assistant").nth(1)
    expect(second).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(page.get_by_test_id("composer-input")).to_be_focused()
    page.screenshot(path=str(artifacts_dir / "chat.png"))

    page.reload()
    wait_until_ready(page)
    item = page.get_by_role("button", name="Hello! What is 2+2?")
    expect(item).to_be_visible()
    item.click()
    expect(page.get_by_test_id("message-user")).to_have_count(2)
    expect(page.get_by_test_id("message-assistant")).to_have_count(2)
    expect(page.get_by_test_id("chat-title")).to_have_text("Hello! What is 2+2?")


def test_stop_ends_a_long_reply_and_keeps_it(page, artifacts_dir):
    wait_until_ready(page)
    send(page, LONG_REPLY_PROMPT)
    reply = page.get_by_test_id("message-assistant").first
    text = reply.get_by_test_id("message-text")
    expect(reply).to_have_attribute("data-state", "streaming", timeout=REPLY_TIMEOUT)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"message-assistant\"] .message-text')"
        ".textContent.length > 40"
    )
    page.get_by_role("button", name="Stop generating").click()

    expect(reply).to_have_attribute("data-state", "stopped", timeout=5_000)
    expect(reply.get_by_test_id("message-meta")).to_contain_text("stopped")
    expect(page.get_by_role("button", name="Send message")).to_be_visible()
    kept = text.text_content()
    page.wait_for_timeout(1000)
    assert text.text_content() == kept, "text kept arriving after Stop"
    page.screenshot(path=str(artifacts_dir / "stopped.png"))

    page.reload()
    wait_until_ready(page)
    reloaded = page.get_by_test_id("message-assistant").first
    expect(reloaded).to_have_attribute("data-state", "stopped")
    expect(reloaded.get_by_test_id("message-text")).to_have_text(kept)


def test_escape_stops_too(page):
    wait_until_ready(page)
    send(page, LONG_REPLY_PROMPT)
    reply = page.get_by_test_id("message-assistant").first
    expect(reply).to_have_attribute("data-state", "streaming", timeout=REPLY_TIMEOUT)
    page.keyboard.press("Escape")
    expect(reply).to_have_attribute("data-state", "stopped", timeout=5_000)


def test_shift_enter_makes_a_new_line_and_empty_messages_are_not_sent(page):
    wait_until_ready(page)
    composer = page.get_by_role("textbox", name="Message")
    composer.press("Enter")
    composer.type("first line")
    composer.press("Shift+Enter")
    composer.type("second line")
    expect(composer).to_have_value("first line\nsecond line")
    expect(page.get_by_test_id("message-user")).to_have_count(0)
    composer.press("Enter")
    expect(page.get_by_test_id("message-user").get_by_test_id("message-text")).to_have_text(
        "first line\nsecond line"
    )


def test_new_rename_and_delete_conversations(page):
    wait_until_ready(page)
    send(page, "Name a fruit.")
    expect(page.get_by_test_id("message-assistant").first).to_have_attribute(
        "data-state", "done", timeout=REPLY_TIMEOUT
    )
    page.get_by_role("button", name="Rename conversation").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox").fill("Fruit talk")
    dialog.get_by_role("button", name="Rename").click()
    expect(page.get_by_test_id("chat-title")).to_have_text("Fruit talk")
    expect(page.get_by_role("button", name="Fruit talk")).to_be_visible()

    page.get_by_test_id("new-chat-button").click()
    expect(page.get_by_test_id("welcome")).to_be_visible()
    expect(page.get_by_test_id("chat-title")).to_have_text("New chat")

    page.get_by_role("button", name="Fruit talk").click()
    page.get_by_role("button", name="Delete conversation").click()  # undo instead of confirm
    expect(page.get_by_test_id("conversation-item")).to_have_count(0)
    page.reload()
    wait_until_ready(page)
    expect(page.get_by_test_id("conversation-item")).to_have_count(0)
    expect(page.get_by_test_id("conversation-list-empty")).to_be_visible()


def test_conversations_are_there_after_the_app_restarts(page, served):
    wait_until_ready(page)
    send(page, "Remember me after a restart.")
    expect(page.get_by_test_id("message-assistant").first).to_have_attribute(
        "data-state", "done", timeout=REPLY_TIMEOUT
    )
    stop_server(served)
    restarted = start_server(served.paths, served.stderr_log)
    try:
        page.goto(restarted.url)
        wait_until_ready(page)
        expect(page.get_by_role("button", name="Remember me after a restart.")).to_be_visible()
        expect(page.get_by_test_id("message-user")).to_have_count(1)  # opened automatically
        expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    finally:
        stop_server(restarted)
