"""Conversation turns through the whole app with the real model (the seed's crash path)."""

import os
import signal
import sys
import threading

import pytest

from tests.support.prompts import LONG_REPLY_PROMPT


def send(app, watch, text, conversation_id=None):
    watcher = watch(app.events)
    sent = app.chat.send(conversation_id, text)
    return sent, watcher


def test_two_turn_conversation_streams_and_persists(start_app, watch):
    app = start_app()
    sent, watcher = send(app, watch, "Hello! What is 2+2?")
    conversation_id = sent["conversation"]["id"]
    done = watcher.wait_for("reply_done", job_id=sent["job_id"])
    assert watcher.types()[:2] == ["reply_queued", "reply_started"]
    assert len(watcher.tokens(sent["job_id"])) >= 2
    # What the prompt holds is said before the first token (the context meter's figure while
    # the reply is written), and it is the count the reply's statistics give at the end.
    kinds = [e["type"] for e in watcher.seen if e["type"] in ("reply_context", "token")]
    assert kinds[0] == "reply_context"
    sized = next(e for e in watcher.seen if e["type"] == "reply_context")
    assert sized["prompt_tokens"] == done["stats"]["prompt_tokens"] > 0
    assert done["message"]["content"] == "".join(watcher.tokens(sent["job_id"]))
    assert done["stats"]["tokens_per_second"] > 0

    second, watcher = send(app, watch, "And what is 3+3?", conversation_id)
    done = watcher.wait_for("reply_done", job_id=second["job_id"])
    assert done["stats"]["prompt_tokens_reused"] > 0
    roles = [m["role"] for m in app.store.messages(conversation_id)]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert app.store.get_conversation(conversation_id)["title"] == "Hello! What is 2+2?"
    # The reply came from the worker process: llama.cpp never entered this (the UI) process.
    assert "llama_cpp" not in sys.modules


def test_multi_turn_after_a_long_message_trims_and_says_so(start_app, watch):
    app = start_app({"n_ctx": 1024, "n_batch": 64, "n_ubatch": 64}, generation={"max_tokens": 128})
    long_text = "Remember this list: " + ", ".join(f"item {n}" for n in range(100))
    first, watcher = send(app, watch, long_text)
    watcher.wait_for("reply_done", job_id=first["job_id"])
    conversation_id = first["conversation"]["id"]

    second, watcher = send(
        app, watch, long_text.replace("Remember", "Also remember"), conversation_id
    )
    trimmed = watcher.wait_for("history_trimmed", job_id=second["job_id"])
    assert trimmed["dropped_messages"] == 2
    done = watcher.wait_for("reply_done", job_id=second["job_id"])
    assert done["stats"]["dropped_messages"] == 2
    assert len(app.store.messages(conversation_id)) >= 3  # nothing deleted from the store


def test_stop_policy_refuses_instead_of_trimming(start_app, watch):
    app = start_app({"n_ctx": 1024, "n_batch": 64}, generation={"max_tokens": 128}, overflow="stop")
    long_text = "Remember this list: " + ", ".join(f"item {n}" for n in range(100))
    first, watcher = send(app, watch, long_text)
    watcher.wait_for("reply_done", job_id=first["job_id"])
    second, watcher = send(app, watch, long_text, first["conversation"]["id"])
    failed = watcher.wait_for("reply_failed", job_id=second["job_id"])
    assert failed["error"]["code"] == "context_overflow"
    assert "no longer fits" in failed["error"]["message"]


def test_message_larger_than_the_context_then_chat_goes_on(start_app, watch):
    app = start_app({"n_ctx": 512, "n_batch": 64, "n_ubatch": 64})
    huge, watcher = send(app, watch, "word " * 3000)
    failed = watcher.wait_for("reply_failed", job_id=huge["job_id"])
    assert failed["error"]["code"] == "context_overflow"
    assert "the context holds 512 tokens" in failed["error"]["message"]

    conversation_id = huge["conversation"]["id"]
    app.store.delete_conversation(conversation_id)
    after, watcher = send(app, watch, "Say hi.")
    assert watcher.wait_for("reply_done", job_id=after["job_id"])["message"]["content"]


def test_stop_keeps_the_partial_reply(start_app, watch):
    app = start_app(generation={"max_tokens": 1500})
    sent, watcher = send(app, watch, LONG_REPLY_PROMPT)
    conversation_id = sent["conversation"]["id"]
    watcher.wait_for("token", job_id=sent["job_id"])
    assert app.chat.stop(conversation_id)
    done = watcher.wait_for("reply_done", job_id=sent["job_id"])
    assert done["stopped"] is True
    stored = app.store.messages(conversation_id)[-1]
    assert stored["role"] == "assistant" and stored["meta"]["stopped"] is True
    assert stored["content"] == "".join(watcher.tokens(sent["job_id"]))
    assert done["stats"]["completion_tokens"] < 1500


def test_crash_mid_reply_keeps_the_conversation_and_retry_works(start_app, watch):
    app = start_app(generation={"max_tokens": 1500})
    sent, watcher = send(app, watch, LONG_REPLY_PROMPT)
    conversation_id = sent["conversation"]["id"]
    watcher.wait_for("token", job_id=sent["job_id"])
    os.kill(app.runtime.status()["engine_pid"], signal.SIGSEGV)
    failed = watcher.wait_for("reply_failed", job_id=sent["job_id"])
    assert failed["error"]["code"] == "engine_crashed"
    assert "segmentation fault" in failed["error"]["message"]
    assert "the model is restarting" in failed["error"]["message"]
    assert "Retry" in failed["error"]["advice"]
    kept = app.store.messages(conversation_id)  # the failure is saved with its reason
    assert [m["role"] for m in kept] == ["user", "assistant"]
    assert kept[-1]["meta"]["error"] == failed["error"]

    app.runtime.ensure_ready(timeout=120)
    app.settings.update({"generation": {"max_tokens": 32}})
    retried = app.chat.retry(conversation_id)
    watcher.wait_for("reply_done", job_id=retried["job_id"])
    assert [m["role"] for m in app.store.messages(conversation_id)] == ["user", "assistant"]


def test_concurrent_requests_are_queued_not_interleaved(start_app, watch):
    app = start_app(generation={"max_tokens": 48})
    watcher = watch(app.events)
    results = []
    threads = [
        threading.Thread(target=lambda q=q: results.append(app.chat.send(None, q)))
        for q in ("Name a fruit.", "Name a country.", "Name an animal.")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for sent in results:
        watcher.wait_for("reply_done", job_id=sent["job_id"])
    order = [
        e["job_id"] for e in watcher.seen if e["type"] in {"reply_started", "token", "reply_done"}
    ]
    # Each job's events form one unbroken run: no two replies share the context at once.
    runs = [job for index, job in enumerate(order) if index == 0 or order[index - 1] != job]
    assert sorted(runs) == sorted(sent["job_id"] for sent in results)


def test_a_second_message_while_replying_is_refused_politely(start_app, watch):
    app = start_app(generation={"max_tokens": 1500})
    sent, watcher = send(app, watch, LONG_REPLY_PROMPT)
    with pytest.raises(ValueError, match="still being written"):
        app.chat.send(sent["conversation"]["id"], "another")
    app.chat.stop(sent["conversation"]["id"])
    watcher.wait_for("reply_done", job_id=sent["job_id"])
