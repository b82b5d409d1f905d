"""The engine worker with the real model: explicit context, streaming, cancel, crash boundary."""

import os
import signal
import threading
import time

import pytest

from localwork.errors import ContextOverflow, EngineCrashed, ModelLoadFailed
from localwork.models.registry import bundled_model_path
from tests.support.prompts import LONG_REPLY_PROMPT

SAMPLING = {
    "temperature": 0.0,
    "top_p": 1.0,
    "top_k": 40,
    "min_p": 0.05,
    "repeat_penalty": 1.1,
    "seed": 42,
}


def chat_prompt(app, *turns):
    messages = [{"role": "system", "content": "You are a helpful assistant."}]
    for number, text in enumerate(turns):
        messages.append({"role": "user" if number % 2 == 0 else "assistant", "content": text})
    return app.runtime.ensure_ready().template.render(messages)


def generate(app, prompt, max_tokens=64):
    pieces = []
    result = app.runtime.generate(prompt, max_tokens, SAMPLING, pieces.append)
    return "".join(pieces), pieces, result


def test_context_is_built_exactly_as_planned(start_app):
    app = start_app({"n_ctx": 1024, "n_batch": 64, "n_ubatch": 32, "n_threads": 1})
    loaded = app.runtime.ensure_ready()
    assert loaded.engine_context == {"n_ctx": 1024, "n_batch": 64}
    assert (loaded.plan.n_ctx, loaded.plan.n_batch, loaded.plan.n_ubatch) == (1024, 64, 32)
    assert loaded.plan.n_threads == 1


def test_auto_context_never_falls_back_to_library_default(start_app):
    loaded = start_app().runtime.ensure_ready()
    assert loaded.engine_context["n_ctx"] == loaded.plan.n_ctx == 8192  # not llama's 512


def test_reply_streams_token_by_token(start_app):
    app = start_app()
    text, pieces, result = generate(app, chat_prompt(app, "Name three colours."))
    assert len(pieces) >= 3
    assert text.strip()
    assert result["completion_tokens"] >= len(pieces) - 1
    assert result["stop_reason"] in {"eos", "length"}
    assert result["tokens_per_second"] > 0


def test_cancel_stops_and_keeps_what_was_generated(start_app):
    app = start_app()
    pieces, outcome = [], {}
    prompt = chat_prompt(app, LONG_REPLY_PROMPT)

    def run():
        outcome["result"] = app.runtime.generate(prompt, 1500, SAMPLING, pieces.append)

    worker = threading.Thread(target=run)
    worker.start()
    while len(pieces) < 10:
        time.sleep(0.005)
    app.runtime.cancel()
    worker.join(30)
    result = outcome["result"]
    assert result["stop_reason"] == "cancelled"
    assert 10 <= result["completion_tokens"] < 200
    assert "".join(pieces).strip()


def test_second_turn_reuses_the_first_turns_cache(start_app):
    app = start_app()
    first_prompt = chat_prompt(app, "What is the capital of France?")
    answer, _, first = generate(app, first_prompt)
    _, _, second = generate(
        app, chat_prompt(app, "What is the capital of France?", answer, "And of Spain?")
    )
    assert first["prompt_tokens_reused"] == 0
    assert second["prompt_tokens_reused"] >= first["prompt_tokens"]
    assert second["prompt_tokens"] > first["prompt_tokens"]


def test_prompt_many_times_the_batch_is_processed_in_chunks(start_app):
    app = start_app({"n_ctx": 8192, "n_batch": 64, "n_ubatch": 64})
    long_message = "Summarise this: " + "the quick brown fox jumps over the lazy dog. " * 400
    _, _, result = generate(app, chat_prompt(app, long_message), max_tokens=16)
    assert result["prompt_tokens"] > 3000  # about 50 batches of 64
    assert result["completion_tokens"] >= 1


@pytest.mark.parametrize("extra", [0, 1, 500])
def test_prompt_at_or_over_the_context_is_refused_not_crashed(start_app, extra):
    app = start_app({"n_ctx": 512, "n_batch": 64, "n_ubatch": 64})
    filler, prompt = "", ""
    while app.runtime.count_tokens(prompt) < 512 + extra:  # build a prompt of >= n_ctx tokens
        filler += "word "
        prompt = chat_prompt(app, filler)
    with pytest.raises(ContextOverflow, match="the context holds 512"):
        generate(app, prompt, max_tokens=1)
    # The worker is still alive and usable.
    pid = app.runtime.status()["engine_pid"]
    text, _, _ = generate(app, chat_prompt(app, "Say hi."), max_tokens=8)
    assert text and app.runtime.status()["engine_pid"] == pid


def test_segfault_mid_reply_is_survived_and_the_engine_restarts(start_app):
    app = start_app()
    first_pid = app.runtime.status()["engine_pid"]
    pieces, outcome = [], {}
    prompt = chat_prompt(app, LONG_REPLY_PROMPT)

    def run():
        try:
            app.runtime.generate(prompt, 1500, SAMPLING, pieces.append)
        except EngineCrashed as crash:
            outcome["crash"] = crash

    worker = threading.Thread(target=run)
    worker.start()
    while len(pieces) < 5:
        time.sleep(0.005)
    os.kill(first_pid, signal.SIGSEGV)
    worker.join(30)
    assert "segmentation fault" in outcome["crash"].message

    app.runtime.ensure_ready(timeout=120)  # restarted with the same model
    status = app.runtime.status()
    assert status["state"] == "ready"
    assert status["engine_pid"] not in (None, first_pid)
    text, _, _ = generate(app, chat_prompt(app, "Say hi."), max_tokens=8)
    assert text.strip()


def test_a_damaged_model_file_gives_a_clear_error(start_app, paths):
    damaged = paths.models_dir / "damaged.gguf"
    damaged.write_bytes(bundled_model_path().read_bytes()[: 8 * 1024 * 1024])  # header intact
    app = start_app()
    app.runtime.load("local/damaged.gguf")
    with pytest.raises(ModelLoadFailed, match="damaged"):
        app.runtime.ensure_ready(timeout=60)
    status = app.runtime.status()
    assert status["state"] == "error" and status["error"]["code"] == "model_load_failed"
    # Choosing a good model again works.
    app.runtime.load_and_wait(None, timeout=60)
    assert app.runtime.status()["state"] == "ready"
