"""The local engine splits ``<think>`` reasoning out of its replies with the same parser as the
remote engine (``engine/reasoning.py``): shown apart, kept with the message, never sent back."""

from __future__ import annotations


def test_think_tags_from_the_local_model_become_the_replys_reasoning(fake_app):
    running = fake_app([{"text": "<think>The user says hi.</think>\nHello!"}], mode=None)
    message = running.done(running.send("Hi")["job_id"])["message"]
    assert message["content"] == "Hello!"
    assert message["meta"]["reasoning"]["text"] == "The user says hi."
    thought = [e["text"] for e in running.events.seen if e["type"] == "reasoning"]
    assert "".join(thought) == "The user says hi."
    shown = "".join(e["text"] for e in running.events.seen if e["type"] == "token")
    assert "think" not in shown and "The user says hi." not in shown


def test_the_reasoning_is_not_in_the_next_prompt(fake_app):
    running = fake_app([{"text": "<think>secret plan</think>Sure."}, {"text": "Again."}], mode=None)
    running.done(running.send("First")["job_id"])
    running.done(running.send("Second")["job_id"])
    second_prompt = running.requests()[-1]["prompt"]
    assert "secret plan" not in second_prompt and "Sure." in second_prompt


def test_a_reply_without_think_tags_is_all_answer(fake_app):
    running = fake_app([{"text": "Just an answer with a < sign."}], mode=None)
    message = running.done(running.send("Hi")["job_id"])["message"]
    assert message["content"] == "Just an answer with a < sign."
    assert "reasoning" not in message["meta"]
