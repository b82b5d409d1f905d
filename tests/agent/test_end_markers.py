"""A reply ends at the prompt format's end marker even when the model writes it as text, in
the chat and in ``ask``; a model without a template is prompted in the format chosen for it."""

from __future__ import annotations

from localwork.models.registry import bundled_model_path
from tests.agent.test_ask import ask
from tests.hub.test_models_cli import models
from tests.support.gguf_files import edited_copy
from tests.support.scripted_engine import logged_requests

MARKER_LINES = "<|im_end|>\n" * 20


def test_an_end_marker_written_as_text_ends_the_reply(scripted_app):
    s = scripted_app([{"text": f"Paris.{MARKER_LINES}"}])
    s.app.store.set_tool_mode(s.conversation_id, "off")
    message = s.done(s.send("Capital of France?")["job_id"])["message"]
    assert message["content"] == "Paris."
    (request,) = s.requests()
    assert "<|im_end|>" in request["stop"]


def test_ask_stops_at_the_end_marker_too(tmp_path):
    result = ask(tmp_path, [{"text": f"Hello there.{MARKER_LINES}"}], "Hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Hello there."


def test_a_model_without_template_is_prompted_in_its_chosen_format(scripted_app, paths):
    edited_copy(
        bundled_model_path(),
        paths.models_dir / "no-template.gguf",
        drop=("tokenizer.chat_template",),
    )
    s = scripted_app(
        [{"text": "Hi!\nUser: and now I ramble"}, {"text": "Hello.<|im_end|>x"}, {"text": ""}]
    )
    s.app.store.set_tool_mode(s.conversation_id, "off")
    overview = s.app.models.overview()
    [card] = [m for m in overview["models"] if m["id"] == "local/no-template.gguf"]
    assert (card["chat_template"], card["prompt_format"]) == (False, "plain")
    s.app.models.select(card["id"], confirmed=True)
    s.app.runtime.ensure_ready(timeout=60)

    first = s.done(s.send("Hello")["job_id"])["message"]
    assert first["content"] == "Hi!"  # a base model's next "User:" line is not its reply
    assert s.requests()[0]["prompt"].endswith("User: Hello\n\nAssistant:")

    s.app.models.set_prompt_format(card["id"], "chatml")  # applies without a reload
    second = s.done(s.send("Again")["job_id"])["message"]
    assert second["content"] == "Hello."
    assert s.requests()[1]["prompt"].endswith("<|im_start|>assistant\n")
    assert s.app.settings.current.prompt_formats == {card["id"]: "chatml"}

    # A wrong format often makes a model end at once: the user is told, not shown nothing.
    empty = s.done(s.send("And?")["job_id"])["message"]
    assert empty["content"] == "" and "prompt format" in empty["meta"]["notice"]


def test_an_empty_reply_says_so(scripted_app):
    s = scripted_app([{"text": "<|im_end|>"}])
    s.app.store.set_tool_mode(s.conversation_id, "off")
    message = s.done(s.send("Hi")["job_id"])["message"]
    assert message["content"] == ""
    assert message["meta"]["notice"].startswith("The model ended its reply without writing")
    assert "prompt format" not in message["meta"]["notice"]  # it has a template of its own


def test_the_cli_shows_and_sets_the_format_that_ask_then_uses(tmp_path):
    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    edited_copy(
        bundled_model_path(), data / "models" / "base.gguf", drop=("tokenizer.chat_template",)
    )
    shown = models(data, "format", "base.gguf")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "local/base.gguf\tplain  (no chat template — base model?)\n"
    refused = models(data, "format", "base.gguf", "model")
    assert refused.returncode == 1 and "no chat template of its own" in refused.stderr
    assert models(data, "format", "base.gguf", "vicuna").returncode == 1
    assert models(data, "format", "base.gguf", "gemma").stdout.startswith("local/base.gguf\tgemma")

    script = tmp_path / "script.json"
    answered = ask(tmp_path, [{"text": "Hi.<end_of_turn>\n<end_of_turn>"}], "Hi", "--model", "base")
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.strip() == "Hi."
    (request,) = logged_requests(script)
    assert request["prompt"].endswith("<start_of_turn>model\n")
