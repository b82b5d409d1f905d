"""Where a message lands: always in the conversation on screen, even when start-up is slow.

Start-up opens the latest conversation once the list has loaded. Here the list call is held
back (Playwright routing, nothing in the app knows) until after the user started a new chat,
which is the race a slow machine runs every time.
"""

from __future__ import annotations

from playwright.sync_api import APIResponse, Page, Route, expect

from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import MODEL_READY_TIMEOUT, REPLY_TIMEOUT, send
from tests.support.scripted_engine import add_replies
from tests.support.seed import seed_conversation

OLD = [
    {"role": "user", "content": "An old question"},
    {"role": "assistant", "content": "An old answer"},
]


class HeldCall:
    """The page's first call of one bridge method is answered at once but delivered late,
    at ``release``: what a slow start-up does to the page."""

    def __init__(self, page: Page, method: str) -> None:
        self._page = page
        self._routes: list[tuple[Route, APIResponse]] = []
        self._released = False
        page.route(f"**/api/{method}", self._hold)

    def _hold(self, route: Route) -> None:
        if self._released:
            route.continue_()
        else:
            self._routes.append((route, route.fetch()))

    def release(self) -> None:
        for _ in range(200):  # the page asks right after the status; wait for that
            if self._routes:
                break
            self._page.wait_for_timeout(25)
        assert self._routes, "the page never asked for the conversation list"
        self._released = True
        for route, response in self._routes:
            route.fulfill(response=response)


def reload_with_a_slow_list(page: Page) -> HeldCall:
    held = HeldCall(page, "list_conversations")
    page.reload()
    status = page.get_by_test_id("status-model")
    expect(status).to_contain_text("ready", timeout=MODEL_READY_TIMEOUT)
    return held


def conversations_by_title(page: Page) -> dict[str, list[dict]]:
    return {
        item["title"]: api_call(page, "get_conversation", conversation_id=item["id"])["messages"]
        for item in api_call(page, "list_conversations")
    }


def test_a_message_typed_in_a_new_chat_during_a_slow_start_stays_there(script, page, served):
    add_replies(script, [{"text": "A new answer."}])
    seed_conversation(served.paths, "Old talk", OLD)
    held = reload_with_a_slow_list(page)
    page.get_by_test_id("new-chat-button").click()
    page.get_by_role("textbox", name="Message").fill("Hello from a new chat")
    held.release()  # the list arrives after the user's New chat
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("chat-title")).to_have_text("New chat")
    expect(page.get_by_test_id("message-user")).to_have_count(0)

    page.get_by_role("textbox", name="Message").press("Enter")
    reply = page.get_by_test_id("message-assistant")
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(page.get_by_test_id("chat-title")).to_have_text("Hello from a new chat")
    stored = conversations_by_title(page)
    assert [m["content"] for m in stored["Old talk"]] == ["An old question", "An old answer"]
    assert [m["content"] for m in stored["Hello from a new chat"]] == [
        "Hello from a new chat",
        "A new answer.",
    ]


def test_a_new_chat_sent_before_the_list_arrives_stays_on_screen(script, page, served):
    add_replies(script, [{"text": "First answer."}, {"text": "Second answer."}])
    seed_conversation(served.paths, "Old talk", OLD)
    held = reload_with_a_slow_list(page)
    page.keyboard.press("Control+n")
    send(page, "First message")
    expect(page.get_by_test_id("message-assistant")).to_have_attribute(
        "data-state", "done", timeout=REPLY_TIMEOUT
    )
    held.release()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("chat-title")).to_have_text("First message")
    expect(page.get_by_test_id("message-user")).to_have_count(1)

    send(page, "Second message")
    expect(page.get_by_test_id("message-assistant").nth(1)).to_have_attribute(
        "data-state", "done", timeout=REPLY_TIMEOUT
    )
    stored = conversations_by_title(page)
    assert len(stored["Old talk"]) == 2
    assert [m["content"] for m in stored["First message"]] == [
        "First message",
        "First answer.",
        "Second message",
        "Second answer.",
    ]
