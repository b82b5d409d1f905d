"""A GGUF without a chat template, imported from elsewhere: the Models pane says so, offers
the prompt formats with plain completion as the default, and the chosen one sticks; a reply
from it ends by itself, far below the 1,500-token cap."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from localwork.models.registry import bundled_model_path
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import REPLY_TIMEOUT, send, wait_until_ready
from tests.e2e.test_models_ui import open_models
from tests.support.gguf_files import edited_copy, tiny_gemma3

NAME = "base-no-template"


def test_a_model_without_template_is_named_so_and_gets_a_format_picker(
    page: Page, tmp_path, artifacts_dir
):
    stripped = edited_copy(
        bundled_model_path(), tmp_path / f"{NAME}.gguf", drop=("tokenizer.chat_template",)
    )
    wait_until_ready(page)
    pane = open_models(page)
    pane.get_by_label("GGUF file path").fill(str(stripped))
    pane.get_by_label("How to import").select_option("link")
    pane.get_by_role("button", name="Import", exact=True).click()
    model = pane.get_by_test_id("installed-model").filter(has_text=NAME)
    expect(model.get_by_test_id("no-template-note")).to_have_text("No chat template — base model?")
    picker = model.get_by_label(f"Prompt format for {NAME}")
    expect(picker).to_have_value("plain")
    expect(picker.locator("option")).to_have_text(
        ["ChatML", "Llama 3", "Gemma", "Mistral", "Plain completion (default)"]
    )
    # A second architecture without a template: a tiny Gemma 3 (a real GGUF built here).
    gemma = tiny_gemma3(tmp_path / "tiny-gemma3.gguf")
    pane.get_by_label("GGUF file path").fill(str(gemma))
    pane.get_by_role("button", name="Import", exact=True).click()
    tiny = pane.get_by_test_id("installed-model").filter(has_text="tiny-gemma3")
    expect(tiny).to_contain_text("gemma3 ·")
    expect(tiny.get_by_test_id("no-template-note")).to_be_visible()
    expect(tiny.get_by_test_id("prompt-format")).to_have_value("plain")
    bundled = pane.get_by_test_id("installed-model").first
    expect(bundled.get_by_test_id("no-template-note")).to_have_count(0)
    expect(bundled.get_by_test_id("prompt-format")).to_have_value("model")

    model.get_by_role("button", name=f"Use {NAME}").click()
    expect(pane.get_by_test_id("models-message")).to_have_text(f"{NAME} is ready.", timeout=60_000)
    model.scroll_into_view_if_needed()
    model.screenshot(path=str(artifacts_dir / "no-template-model.png"))
    pane.screenshot(path=str(artifacts_dir / "models-pane-no-template.png"))
    pane.get_by_role("button", name="Close").click()

    send(page, "What is the capital of France?")
    reply = page.get_by_test_id("message-assistant").first
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    assert "<|im_end|>" not in reply.inner_text()
    assert "User:" not in reply.inner_text()
    [conversation] = api_call(page, "list_conversations")
    [*_, answer] = api_call(page, "get_conversation", conversation_id=conversation["id"])[
        "messages"
    ]
    stats = answer["meta"]["stats"]
    assert stats["stop_reason"] in {"eos", "stop"} and stats["completion_tokens"] < 300, stats

    # Another format, chosen in the pane, applies at once and survives a reload.
    pane = open_models(page)
    model = pane.get_by_test_id("installed-model").filter(has_text=NAME)
    model.get_by_label(f"Prompt format for {NAME}").select_option("chatml")
    expect(pane.get_by_test_id("models-message")).to_have_text(
        f"{NAME} is now prompted with ChatML."
    )
    page.reload()
    wait_until_ready(page)
    pane = open_models(page)
    model = pane.get_by_test_id("installed-model").filter(has_text=NAME)
    expect(model.get_by_label(f"Prompt format for {NAME}")).to_have_value("chatml")
