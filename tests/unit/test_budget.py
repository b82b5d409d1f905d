import pytest

from localwork.engine.budget import fit_conversation, reply_room
from localwork.errors import ContextOverflow

SYSTEM = {"role": "system", "content": "sys"}


def render(messages):
    return "|".join(f"{m['role']}:{m['content']}" for m in messages)


def count(text):
    return len(text.split())  # one "token" per word keeps the arithmetic visible


def turn(number, words=10):
    return [
        {"role": "user", "content": " ".join([f"u{number}"] * words)},
        {"role": "assistant", "content": " ".join([f"a{number}"] * words)},
    ]


def test_everything_fits():
    history = [*turn(1), {"role": "user", "content": "hi"}]
    prompt = fit_conversation(SYSTEM, history, n_ctx=100, max_tokens=20, render=render, count=count)
    assert prompt.dropped_messages == 0
    assert prompt.text == render([SYSTEM, *history])
    assert prompt.max_tokens == 20


def test_oldest_turns_are_dropped_keeping_system_and_newest():
    history = [*turn(1), *turn(2), *turn(3), {"role": "user", "content": "newest"}]
    prompt = fit_conversation(SYSTEM, history, n_ctx=50, max_tokens=20, render=render, count=count)
    assert prompt.dropped_messages == 4  # two whole turns
    assert prompt.text.startswith("system:sys|user:u3")
    assert prompt.text.endswith("user:newest")
    assert prompt.prompt_tokens + prompt.max_tokens <= 50


def test_cut_never_starts_with_an_assistant_message():
    history = [*turn(1, 3), *turn(2, 30), {"role": "user", "content": "newest"}]
    prompt = fit_conversation(SYSTEM, history, n_ctx=90, max_tokens=20, render=render, count=count)
    kept = prompt.text.split("|")[1]
    assert kept.startswith("user:")


def test_stop_policy_explains_instead_of_dropping():
    history = [*turn(1), *turn(2), {"role": "user", "content": "newest"}]
    with pytest.raises(ContextOverflow, match="no longer fits"):
        fit_conversation(
            SYSTEM, history, n_ctx=40, max_tokens=10, render=render, count=count, overflow="stop"
        )


def test_single_message_larger_than_context_gives_numbers():
    history = [{"role": "user", "content": " ".join(["w"] * 500)}]
    with pytest.raises(ContextOverflow) as caught:
        fit_conversation(SYSTEM, history, n_ctx=256, max_tokens=64, render=render, count=count)
    message = caught.value.message
    assert "500 tokens" in message and "256" in message and "64" in message


def test_reply_room_never_exceeds_half_the_context():
    assert reply_room(1024, 8192) == 1024
    assert reply_room(4096, 512) == 256
    assert reply_room(0, 512) == 1
