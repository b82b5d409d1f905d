"""The settings pane end to end: validation next to fields, save and reload, presets."""

import re

from playwright.sync_api import Page, expect

from localwork.settings import SettingsStore
from tests.e2e.conftest import start_server, stop_server
from tests.e2e.test_chat_ui import REPLY_TIMEOUT, send, wait_until_ready

RECORD_STATUS = """() => {
  window.__statusStates = [];
  const dot = document.querySelector('[data-testid="status-dot"]');
  new MutationObserver(() => window.__statusStates.push(dot.dataset.state))
    .observe(dot, {attributes: true, attributeFilter: ["data-state"]});
}"""


def open_settings(page: Page):
    page.get_by_role("button", name="Settings").click()
    pane = page.get_by_role("dialog", name="Settings")
    expect(pane).to_be_visible()
    return pane


def test_context_settings_validate_save_reload_and_chat(page, served, artifacts_dir):
    wait_until_ready(page)
    pane = open_settings(page)
    expect(pane.get_by_test_id("settings-plan")).to_contain_text("Context 8,192 tokens")

    pane.get_by_label("Context length", exact=True).select_option("custom")
    pane.get_by_label("Context length in tokens").fill("256")
    batch_error = pane.get_by_test_id("error-context.n_batch")
    expect(batch_error).to_have_text("batch size (512) cannot be larger than the context (256)")
    expect(pane.get_by_role("button", name="Save", exact=True)).to_be_disabled()

    pane.get_by_label("Context length in tokens").fill("99999")
    expect(pane.get_by_test_id("error-context.n_ctx")).to_contain_text("training length (8192")

    pane.get_by_label("Context length in tokens").fill("1024")
    pane.get_by_label("Batch size").fill("64")
    expect(batch_error).to_be_empty()
    expect(pane.get_by_test_id("settings-plan")).to_contain_text("Context 1,024 tokens")
    pane.get_by_label("Temperature").fill("0")
    pane.get_by_label("Stop and tell me").check()
    page.screenshot(path=str(artifacts_dir / "settings.png"))
    page.evaluate(RECORD_STATUS)
    pane.get_by_role("button", name="Save", exact=True).click()
    expect(pane).to_be_hidden()

    # Saving applies: the model reloads with the new context, visibly, then chat works.
    expect(page.get_by_test_id("status-model")).to_contain_text("ready", timeout=60_000)
    status = page.get_by_test_id("status-model")
    expect(status).to_have_attribute("title", _context_title(1024), timeout=60_000)
    assert "loading" in page.evaluate("window.__statusStates")  # the reload was shown
    send(page, "Say hello.")
    expect(page.get_by_test_id("message-assistant").first).to_have_attribute(
        "data-state", "done", timeout=REPLY_TIMEOUT
    )

    saved = SettingsStore(served.paths.settings_file).current
    assert saved.context.n_ctx == 1024 and saved.context.n_batch == 64
    assert saved.overflow == "stop" and saved.generation.temperature == 0


def _context_title(n_ctx: int) -> re.Pattern[str]:
    return re.compile(rf"^context {n_ctx} tokens · \d+ threads$")


def test_presets_can_be_saved_applied_and_deleted(page):
    wait_until_ready(page)
    pane = open_settings(page)
    pane.get_by_label("Top-k").fill("7")
    pane.get_by_label("New preset name").fill("Focused")
    pane.get_by_role("button", name="Save current as preset").click()
    expect(pane.get_by_test_id("preset-message")).to_have_text("Preset “Focused” saved.")

    pane.get_by_role("button", name="Reset to defaults").click()
    expect(pane.get_by_label("Top-k")).to_have_value("40")
    pane.get_by_label("Saved preset").select_option("Focused")
    pane.get_by_role("button", name="Apply", exact=True).click()
    expect(pane.get_by_label("Top-k")).to_have_value("7")
    page.wait_for_timeout(600)  # past the preview that follows the change
    expect(pane.get_by_test_id("preset-message")).to_have_text(
        "Preset “Focused” applied: press Save to use it."
    )

    pane.get_by_role("button", name="Delete", exact=True).click()
    expect(pane.get_by_label("Saved preset")).to_have_text("No presets yet")
    pane.get_by_role("button", name="Cancel").click()
    expect(pane).to_be_hidden()


def test_a_broken_settings_file_is_kept_and_the_user_is_told(browser, paths, artifacts_dir):
    paths.settings_file.write_text('{"context": {"n_batch": "lots"}')
    server = start_server(paths, artifacts_dir / "server-stderr.log")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(server.url)
        wait_until_ready(page)
        notice = page.get_by_role("alert").filter(has_text="could not be read")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("started with default settings")
        backups = list(paths.config_dir.glob("settings.json.broken-*"))
        assert [b.read_text() for b in backups] == ['{"context": {"n_batch": "lots"}']
    finally:
        context.close()
        stop_server(server)
