"""GGUFs without a chat template in the real worker: the bundled SmolLM2 with its template
stripped (its replies end promptly in every prompt format, tools included) and a tiny Gemma 3
built here (a second architecture, stopping on its own end-of-sequence token)."""

from __future__ import annotations

import pytest

from localwork.models.prompt_formats import FORMATS
from localwork.models.registry import bundled_model_path
from tests.support.gguf_files import edited_copy, tiny_gemma3

MODEL_ID = "local/no-template.gguf"
CAP = 1024  # the default reply cap the runaway replies ran into
PROMPTS = ("What is the capital of France?", "List three fruits.")


@pytest.fixture
def no_template(paths):
    edited_copy(
        bundled_model_path(),
        paths.models_dir / "no-template.gguf",
        drop=("tokenizer.chat_template",),
    )
    return MODEL_ID


def reply(app, watch, text, conversation_id=None, timeout=300.0):
    watcher = watch(app.events)
    sent = app.chat.send(conversation_id, text)
    return watcher.wait_for("reply_done", timeout, job_id=sent["job_id"])


def assert_ended_by_itself(done):
    stats = done["stats"]
    assert stats["stop_reason"] in {"eos", "stop"}, stats
    assert stats["completion_tokens"] < CAP // 3, stats
    # A wrong format can make the model end at once: then a notice says so.
    message = done["message"]
    content = message["content"]
    assert content.strip() or "ended its reply" in message["meta"]["notice"]
    for marker in ("<|im_end|>", "<end_of_turn>", "<|eot_id|>", "\nUser:"):
        assert marker not in content


def test_a_base_model_defaults_to_plain_completion_and_stops(start_app, watch, no_template):
    app = start_app(selected_model=no_template, generation={"max_tokens": CAP})
    loaded = app.runtime.ensure_ready()
    assert (loaded.model.id, loaded.template.format_name) == (no_template, "plain")
    assert app.runtime.status()["model"]["prompt_format"] == "plain"
    for text in PROMPTS:
        assert_ended_by_itself(reply(app, watch, text))


@pytest.mark.parametrize("prompt_format", sorted(set(FORMATS) - {"plain"}))
def test_every_format_the_user_can_pick_ends_the_reply(
    start_app, watch, no_template, prompt_format
):
    app = start_app(
        selected_model=no_template,
        generation={"max_tokens": CAP},
        prompt_formats={no_template: prompt_format},
    )
    assert app.runtime.ensure_ready().template.format_name == prompt_format
    for text in PROMPTS:
        assert_ended_by_itself(reply(app, watch, text))


def test_tools_work_with_plain_completion(start_app, watch, no_template, tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("Buy milk.\n")
    app = start_app(
        selected_model=no_template,
        # After a tool result a 135M model may ramble: this test is about the prompt working.
        generation={"max_tokens": 160, "max_tool_rounds": 1},
        grants=[{"path": str(folder), "mode": "ro"}],
    )
    conversation = app.store.create_conversation()
    app.store.set_tool_mode(conversation["id"], "required")
    done = reply(app, watch, "What files are in my folder?", conversation["id"])
    calls = done["message"]["meta"]["tool_calls"]
    assert calls and calls[0]["tool"] in {"list_directory", "read_file", "search_files"}
    assert done["stats"]["completion_tokens"] <= 160


@pytest.mark.parametrize("prompt_format", [None, "gemma", "chatml"])
def test_a_second_architecture_without_template_loads_and_stops_on_its_eos(
    start_app, watch, paths, prompt_format
):
    tiny_gemma3(paths.models_dir / "tiny-gemma3.gguf")
    model_id = "local/tiny-gemma3.gguf"
    chosen = {model_id: prompt_format} if prompt_format else {}
    app = start_app(
        selected_model=model_id,
        generation={"max_tokens": CAP, "temperature": 0.7, "seed": -1},
        prompt_formats=chosen,
    )
    loaded = app.runtime.ensure_ready()
    assert loaded.info.architecture == "gemma3" and loaded.info.chat_template is None
    assert loaded.template.format_name == (prompt_format or "plain")
    done = reply(app, watch, "Hello there")
    assert done["stats"]["stop_reason"] == "eos"
    assert done["stats"]["completion_tokens"] == 1
    assert done["message"]["content"].strip() == "hello"


def test_a_turn_marker_written_as_a_hidden_control_token_ends_the_reply(start_app, watch, paths):
    # This model writes <start_of_turn> (a control token, not an end-of-generation one, so
    # the reply's text never shows it) over and over: before, that ran to the token cap.
    tiny_gemma3(paths.models_dir / "looping.gguf", reply="<start_of_turn>", ends=False)
    model_id = "local/looping.gguf"
    app = start_app(
        selected_model=model_id,
        generation={"max_tokens": CAP},
        prompt_formats={model_id: "gemma"},
    )
    done = reply(app, watch, "Hello there")
    assert done["stats"]["stop_reason"] == "stop"
    assert done["stats"]["completion_tokens"] == 1
    assert done["message"]["content"] == ""
    assert "prompt format" in done["message"]["meta"]["notice"]
