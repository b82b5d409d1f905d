"""The models pane end to end: list a repo on the loopback fake Hub, download with progress,
pause, resume and cancel one download, finish another (the real SmolLM2 bytes), select it,
chat with it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psutil
import pytest
from playwright.sync_api import Page, expect

from localwork.models.registry import bundled_model_path
from tests.conftest import DETERMINISTIC_GENERATION
from tests.e2e.test_chat_ui import REPLY_TIMEOUT, send, wait_until_ready
from tests.support.fakehub import FakeHub, make_gguf

REPO = "test/SmolLM2-135M-GGUF"
REAL = "smollm2-135m-instruct-q4_1.gguf"
SLOW = "slow-q8_0.gguf"
DOWNLOAD_TIMEOUT = 90_000


@pytest.fixture
def fake_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    hub = FakeHub().start()
    real = bundled_model_path()
    assert real is not None, "the bundled SmolLM2 model is needed as real GGUF bytes"
    # Slow enough to watch progress, fast enough for the test.
    hub.add(REPO, REAL, real, bytes_per_second=40_000_000)
    hub.add(REPO, SLOW, make_gguf(30_000_000), bytes_per_second=1_000_000)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)  # inherited by the --serve process
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield hub
    hub.close()


@pytest.fixture
def served_settings(fake_hub: FakeHub) -> dict:
    # Depending on fake_hub makes HF_ENDPOINT exist before the server starts.
    return {"generation": {**DETERMINISTIC_GENERATION, "max_tokens": 40}}


def open_models(page: Page):
    page.get_by_role("button", name="Models", exact=True).click()
    pane = page.get_by_role("dialog", name="Models")
    expect(pane).to_be_visible()
    return pane


def test_download_cancel_select_and_chat(page: Page, fake_hub: FakeHub, artifacts_dir):
    assert os.environ["HF_ENDPOINT"] == fake_hub.url
    wait_until_ready(page)
    pane = open_models(page)
    installed = pane.get_by_test_id("installed-model")
    expect(installed).to_have_count(1)
    expect(installed.first).to_contain_text("SmolLM2 135M Instruct (bundled, offline)")
    expect(installed.first.get_by_test_id("selected-badge")).to_have_text("In use")
    # The bundled model takes disk space too, and the total says so (not "0 B").
    expect(pane.get_by_test_id("models-summary")).to_contain_text(
        "Models use 94 MB of disk (94 MB of it the bundled model, part of the app)"
    )
    # The curated repos do not exist on the fake Hub: each says so, nothing breaks.
    expect(pane.get_by_test_id("catalog-entry")).to_have_count(7)
    expect(pane.get_by_test_id("catalog-entry").first).to_contain_text(
        f"Not available from {fake_hub.url}."
    )

    pane.get_by_label("Hugging Face repo id").fill(REPO)
    pane.get_by_role("button", name="Show files").click()
    files = pane.get_by_test_id("repo-file")
    expect(files).to_have_count(2)
    expect(files.filter(has_text=REAL)).to_contain_text("Q4_1 · 94 MB")
    expect(files.filter(has_text=REAL).get_by_test_id("fit-badge")).to_have_text("fits")

    # A slow download shows bytes, speed and time left; then it is cancelled.
    pane.get_by_role("button", name=f"Download {SLOW}").click()
    slow = pane.get_by_test_id("download-item").filter(has_text=SLOW)
    expect(slow.get_by_test_id("download-state")).to_have_text("Downloading")
    expect(slow.get_by_test_id("download-progress")).to_contain_text(" left", timeout=10_000)
    expect(slow.get_by_test_id("download-progress")).to_contain_text("/s")
    pane.get_by_role("button", name=f"Pause {SLOW}").click()
    expect(slow.get_by_test_id("download-state")).to_have_text("Paused")
    pane.get_by_role("button", name=f"Resume {SLOW}").click()
    expect(slow.get_by_test_id("download-state")).to_have_text("Downloading")
    pane.get_by_role("button", name=f"Cancel {SLOW}").click()
    expect(slow.get_by_test_id("download-state")).to_have_text("Cancelled")
    served_slow = fake_hub.file(REPO, SLOW).served
    assert 0 < served_slow < 30_000_000

    # The real model downloads, is verified and appears as installed.
    pane.get_by_role("button", name=f"Download {REAL}").click()
    real = pane.get_by_test_id("download-item").filter(has_text=REAL)
    expect(real.get_by_test_id("download-state")).to_have_text("Done", timeout=DOWNLOAD_TIMEOUT)
    new_model = installed.filter(has_text="smollm2-135m-instruct-q4_1")
    expect(new_model).to_have_count(1)
    expect(new_model).to_contain_text("llama · 135M parameters · Q4_1")
    expect(new_model.get_by_test_id("fit-badge")).to_have_text("fits")
    expect(pane.get_by_test_id("models-summary")).to_contain_text("Models use 188 MB of disk")
    expect(files.filter(has_text=REAL)).to_contain_text("Installed")
    pane.locator(".settings-body").evaluate("body => { body.scrollTop = 0; }")
    pane.screenshot(path=str(artifacts_dir / "models-pane.png"))

    new_model.get_by_role("button", name="Use smollm2-135m-instruct-q4_1").click()
    expect(pane.get_by_test_id("models-message")).to_have_text(
        "smollm2-135m-instruct-q4_1 is ready.", timeout=60_000
    )
    expect(new_model.get_by_test_id("selected-badge")).to_have_text("In use")
    pane.get_by_role("button", name="Close").click()
    expect(page.get_by_test_id("status-model")).to_contain_text("smollm2-135m-instruct-q4_1")
    expect(page.get_by_test_id("status-model")).to_contain_text("ready")

    send(page, "Say hello.")
    reply = page.get_by_test_id("message-assistant").first
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    assert reply.get_by_test_id("message-text").inner_text().strip()

    # The choice persists across a reload of the page, and so does the conversation.
    page.reload()
    expect(page.get_by_test_id("status-model")).to_contain_text("smollm2-135m-instruct-q4_1")
    expect(page.get_by_test_id("conversation-item")).to_have_count(1)
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)


def test_import_by_path_wont_fit_question_token_and_delete(
    page: Page, fake_hub, tmp_path, artifacts_dir
):
    wait_until_ready(page)
    # A sparse GGUF "twice the machine's memory" that takes no real disk space.
    huge = tmp_path / "huge-q4_k_m.gguf"
    huge.write_bytes(make_gguf(10_000))
    with open(huge, "r+b") as handle:
        handle.truncate(2 * psutil.virtual_memory().total)
    small = tmp_path / "small-q4_0.gguf"
    small.write_bytes(make_gguf(2_000_000))
    pane = open_models(page)
    expect(pane.get_by_role("button", name="Browse…")).to_be_hidden()  # browser: path field

    pane.get_by_label("GGUF file path").fill(str(huge))
    pane.get_by_label("How to import").select_option("link")
    pane.get_by_role("button", name="Import", exact=True).click()
    expect(pane.get_by_test_id("models-message")).to_have_text(
        "Imported local/imported/huge-q4_k_m.gguf."
    )
    huge_item = pane.get_by_test_id("installed-model").filter(has_text="huge-q4_k_m")
    expect(huge_item.get_by_test_id("fit-badge")).to_have_text("won't fit")
    expect(huge_item).to_contain_text("linked, uses no space here")
    huge_item.get_by_role("button", name="Use huge-q4_k_m").click()
    question = page.get_by_test_id("dialog")
    expect(question).to_contain_text("This model may not fit")
    page.screenshot(path=str(artifacts_dir / "wont-fit-question.png"))
    question.get_by_role("button", name="Cancel").click()
    expect(
        pane.get_by_test_id("installed-model").first.get_by_test_id("selected-badge")
    ).to_be_visible()

    pane.get_by_label("GGUF file path").fill(str(small))
    pane.get_by_label("How to import").select_option("copy")
    pane.get_by_role("button", name="Import", exact=True).click()
    expect(pane.get_by_test_id("models-summary")).to_contain_text("Models use 96 MB of disk")

    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model at all")
    pane.get_by_label("GGUF file path").fill(str(junk))
    pane.get_by_role("button", name="Import", exact=True).click()
    expect(pane.get_by_test_id("models-message")).to_contain_text("not a usable GGUF")
    expect(pane.get_by_test_id("models-message")).not_to_contain_text("download it again")

    pane.get_by_label("Hugging Face token").fill("hf_e2e_secret")
    pane.get_by_role("button", name="Save token").click()
    expect(pane.get_by_test_id("token-state")).to_have_text(
        "A token is saved in this computer's settings."
    )
    expect(pane.get_by_label("Hugging Face token")).to_have_value("")

    pane.get_by_role("button", name="Delete small-q4_0").click()
    page.get_by_test_id("dialog").get_by_role("button", name="Delete").click()
    expect(pane.get_by_test_id("models-message")).to_have_text("Deleted small-q4_0; freed 1.9 MB.")
    expect(pane.get_by_test_id("models-summary")).to_contain_text("Models use 94 MB of disk")
    pane.get_by_role("button", name="Delete huge-q4_k_m").click()
    page.get_by_test_id("dialog").get_by_role("button", name="Delete").click()
    expect(pane.get_by_test_id("installed-model")).to_have_count(1)
    assert huge.exists(), "deleting a linked model leaves the user's file"
