"""Failed replies with a scripted engine: saved with their reason, advice that is possible,
Retry only where it can help, the crash guard's words, and the context a conversation fills.
The crash guard needs a worker process to crash (``scripted_app``); the rest runs on the
in-process fake engine (``fake_app``), which counts tokens as the scripted worker does."""

from __future__ import annotations

import time

from localwork.chat.usage import context_usage

# The engines count a token per 4 characters; the bundled model trains on 8,192.
TOKENS_33K = "word " * (33_000 * 4 // 5)


def usage(s) -> int:
    app = s.app
    return context_usage(app.store, app.engine, app.settings, s.conversation_id)["tokens"]


def failed(s, job_id: str) -> dict:
    return s.events.wait_for("reply_failed", 30, job_id=job_id)


def wait_for_state(s, state: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while (status := s.app.runtime.status())["state"] != state:
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    return status


def test_a_message_over_the_context_is_saved_with_its_reason_and_no_impossible_advice(
    fake_app,
):
    s = fake_app([])
    model = s.app.runtime.status()["model"]
    assert model["n_ctx"] == model["training_context"] == 8192  # Auto: the training length
    job = s.send(TOKENS_33K)["job_id"]
    error = failed(s, job)["error"]
    assert error["code"] == "context_overflow" and error["retry"] is False
    assert "raise the context length" not in error["advice"]
    assert "This model takes at most 8,192 tokens" in error["advice"]
    assert "Llama 3.2 1B Instruct, 131,072 tokens" in error["advice"]  # one that takes it

    stored = s.app.store.messages(s.conversation_id)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[-1]["content"] == "" and stored[-1]["meta"]["error"] == error
    assert usage(s) > 33_000  # the meter counts the message, not the reply that never came


def test_raising_the_context_is_offered_only_when_the_model_can_take_it(fake_app):
    s = fake_app([], max_tokens=256)
    s.app.settings.update({"context": {"n_ctx": 2048}})
    s.app.runtime.load_and_wait(None, timeout=60)
    fits_the_model = failed(s, s.send("word " * 4000)["job_id"])["error"]
    assert "raise the context length in Settings" in fits_the_model["advice"]
    assert "up to 8,192 tokens" in fits_the_model["advice"]

    too_big = failed(s, s.app.chat.send(None, "word " * 9000)["job_id"])["error"]
    assert "raise the context length" not in too_big["advice"]
    assert "Qwen2.5 1.5B Instruct, 32,768 tokens" in too_big["advice"]


def test_retry_replaces_a_saved_failure(fake_app):
    s = fake_app([])  # no scripted reply: the engine reports an error
    error = failed(s, s.send("Hello?")["job_id"])["error"]
    assert error["code"] == "generation_failed" and error["retry"] is True
    s.add_replies([{"text": "not used"}, {"text": "Hello again."}])
    s.done(s.app.chat.retry(s.conversation_id)["job_id"])
    stored = s.app.store.messages(s.conversation_id)
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "Hello?"),
        ("assistant", "Hello again."),
    ]


def test_a_saved_failure_is_shown_to_the_user_but_never_read_by_the_model(fake_app):
    s = fake_app([])
    failed(s, s.send("Hello?")["job_id"])
    s.add_replies([{"text": "not used"}, {"text": "Fine."}])
    s.done(s.send("Are you there?")["job_id"])
    prompt = s.requests()[-1]["prompt"]
    assert prompt.count("<|im_start|>assistant") == 1  # only the turn being written
    assert "Hello?" in prompt and "Are you there?" in prompt


def test_the_crash_guard_says_it_did_not_restart_and_restart_brings_it_back(scripted_app):
    s = scripted_app([{"crash": "SIGSEGV"}] * 3 + [{"text": "Back again."}])
    job = s.send("Hello")["job_id"]
    first = failed(s, job)["error"]
    assert "the model is restarting" in first["message"] and first["retry"] is True
    for _ in range(2):
        wait_for_state(s, "ready")
        job = s.app.chat.retry(s.conversation_id)["job_id"]
        last = failed(s, job)["error"]
    status = wait_for_state(s, "error")
    assert "so it was not restarted" in status["error"]["message"]
    assert "restarting" not in last["message"]
    assert "not restarted" in last["message"] and "Restart the model" in last["advice"]
    crashes = [e for e in s.events.seen if e["type"] == "engine_crashed"]
    assert [e["restarting"] for e in crashes] == [True, True, False]

    s.app.runtime.restart()
    wait_for_state(s, "ready")
    reply = s.done(s.app.chat.retry(s.conversation_id)["job_id"])
    assert reply["message"]["content"] == "Back again."


def test_an_imported_conversation_without_counts_is_counted(fake_app):
    s = fake_app([])
    imported = s.app.store.import_conversation(
        "Imported",
        [{"role": "user", "content": "x" * 4000}, {"role": "assistant", "content": "y" * 400}],
    )
    s.conversation_id = imported["id"]
    assert usage(s) > 1100  # both messages, in the scripted engine's 4 characters a token
