"""What a new user noticed first: notices that look like what they say, the Activity list in
plain words and the user's own date format, cards that know an undo, the settings pane's
wording and confirmations."""

import os
import re
import signal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.agent.conftest import guided
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import REPLY_TIMEOUT, send, wait_until_ready
from tests.e2e.test_tools_ui import card, served_settings, work  # noqa: F401
from tests.support.scripted_engine import add_replies
from tests.support.seed import export_document


def shot(page: Page, artifacts_dir: Path, name: str, target=None) -> None:
    (target or page).screenshot(path=str(artifacts_dir / f"{name}.png"))


def notice_style(page: Page) -> dict:
    return page.get_by_test_id("notice").evaluate(
        "n => ({kind: n.dataset.kind, role: n.getAttribute('role'),"
        " background: getComputedStyle(n).backgroundColor,"
        " border: getComputedStyle(n).borderLeftColor})"
    )


def test_success_warning_and_error_notices_look_different(page, served, tmp_path, artifacts_dir):
    wait_until_ready(page)
    notice = page.get_by_test_id("notice")
    styles = {}

    good = tmp_path / "Trip.json"
    good.write_text(export_document("Trip", [{"role": "user", "content": "Plan a trip"}]))
    page.get_by_test_id("import-file").set_input_files(str(good))
    expect(notice).to_contain_text("Imported “Trip”.")
    styles["success"] = notice_style(page)
    shot(page, artifacts_dir, "notice-success", notice)

    bad = tmp_path / "notes.json"
    bad.write_text("hello")
    page.get_by_test_id("import-file").set_input_files(str(bad))
    expect(notice).to_contain_text("Could not import notes.json")
    styles["error"] = notice_style(page)
    shot(page, artifacts_dir, "notice-error", notice)

    os.kill(api_call(page, "get_status")["engine_pid"], signal.SIGSEGV)
    expect(notice).to_contain_text("Restarting it…", timeout=30_000)
    styles["warning"] = notice_style(page)
    shot(page, artifacts_dir, "notice-warning", notice)
    expect(notice).to_contain_text("running again", timeout=60_000)
    assert notice_style(page)["kind"] == "success"

    assert {kind: style["kind"] for kind, style in styles.items()} == {
        "success": "success",
        "error": "error",
        "warning": "warning",
    }
    assert styles["success"]["role"] == "status"  # news is not announced as an alarm
    assert styles["error"]["role"] == styles["warning"]["role"] == "alert"
    backgrounds = {style["background"] for style in styles.values()}
    borders = {style["border"] for style in styles.values()}
    assert len(backgrounds) == 3 and len(borders) == 3, styles


@pytest.fixture
def german(monkeypatch):
    """The served app runs for a German user; request it before ``page``."""
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LC_TIME", "de_DE.UTF-8")


def test_activity_is_in_plain_words_and_cards_know_an_undo(
    german,
    script,
    page,
    work,  # noqa: F811
    artifacts_dir,
):
    (work / "keep.txt").write_text("precious")
    add_replies(
        script,
        [
            *guided("write_file", path="hello.txt", content="Hello!\n"),
            *guided("delete_file", path="keep.txt"),
            {"text": "Done."},
        ],
    )
    wait_until_ready(page)
    send(page, "Write hello.txt, then delete keep.txt")
    cards = card(page)
    expect(cards.first).to_have_attribute("data-status", "waiting", timeout=REPLY_TIMEOUT)
    cards.first.get_by_role("button", name="Approve", exact=True).click()
    expect(cards.nth(1)).to_have_attribute("data-status", "waiting", timeout=REPLY_TIMEOUT)
    cards.nth(1).get_by_role("button", name="Deny").click()
    expect(page.get_by_test_id("message-assistant")).to_have_attribute(
        "data-state", "done", timeout=REPLY_TIMEOUT
    )
    # A denied call was not an error: its outcome is headed for what it was.
    expect(cards.nth(1).locator("summary")).to_have_text("Not run")
    assert (work / "keep.txt").exists()

    page.get_by_role("button", name="File activity in this conversation").click()
    activity = page.get_by_role("dialog", name="Activity")
    items = activity.get_by_test_id("activity-item")
    expect(items).to_have_count(2)
    denied = items.filter(has_text="delete_file")
    expect(denied).to_contain_text("denied by you")
    assert "failed" not in denied.get_attribute("class")  # not painted as an error
    written = items.filter(has_text="write_file")
    expect(written.get_by_test_id("activity-summary")).to_have_text(
        f"Created {work / 'hello.txt'} (7 bytes)"
    )
    for summary in activity.get_by_test_id("activity-summary").all_text_contents():
        assert not summary.lstrip().startswith("{"), summary
    # The user's own date format (German: 01.12.2026, 11:04), not the browser's en-US one.
    when = written.get_by_test_id("activity-when").text_content()
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}", when), when
    shot(page, artifacts_dir, "activity", activity)

    written.get_by_role("button", name=re.compile("^Undo")).click()
    expect(activity.get_by_test_id("activity-message")).to_have_text("Undone.")
    assert not (work / "hello.txt").exists()
    activity.get_by_role("button", name="Close").click()
    expect(cards.first.get_by_test_id("tool-status")).to_have_text("Undone")  # at once
    page.reload()
    wait_until_ready(page)
    expect(cards.first).to_have_attribute("data-status", "undone")  # and after a reload
    expect(cards.first.get_by_test_id("tool-status")).to_have_text("Undone")
    expect(cards.nth(1).get_by_test_id("tool-status")).to_have_text("Denied")
    shot(page, artifacts_dir, "cards-undone-and-denied")


def open_settings(page: Page):
    page.get_by_role("button", name="Settings").click()
    pane = page.get_by_role("dialog", name="Settings")
    expect(pane).to_be_visible()
    return pane


def test_settings_speak_plainly_and_confirm_what_they_did(page, artifacts_dir):
    wait_until_ready(page)
    pane = open_settings(page)
    pane.get_by_label("Temperature").fill("5")
    expect(pane.get_by_test_id("error-generation.temperature")).to_have_text("must be 2 or less")
    pane.get_by_label("Temperature").fill("0.3")
    expect(pane.get_by_test_id("error-generation.temperature")).to_be_empty()

    pane.get_by_label("New preset name").fill("Calm")
    pane.get_by_role("button", name="Save current as preset").click()
    saved = pane.get_by_test_id("preset-message")
    expect(saved).to_have_text("Preset “Calm” saved.")
    page.wait_for_timeout(600)  # a preview runs 250 ms after typing; it used to wipe this
    expect(saved).to_have_text("Preset “Calm” saved.")
    expect(saved).to_be_in_viewport()

    pane.get_by_role("button", name="Save", exact=True).click()
    notice = page.get_by_test_id("notice-text")
    expect(notice).to_have_text("Settings saved.")  # only sampling changed: no reload
    expect(page.get_by_test_id("notice")).to_have_attribute("data-kind", "success")

    pane = open_settings(page)
    pane.get_by_label("Context length", exact=True).select_option("custom")
    pane.get_by_label("Context length in tokens").fill("2048")
    expect(pane.get_by_role("button", name="Save", exact=True)).to_be_enabled()
    pane.get_by_role("button", name="Save", exact=True).click()
    expect(notice).to_contain_text("Settings saved. The model is reloading to apply them.")
