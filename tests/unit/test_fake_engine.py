"""The tests' in-process fake engine keeps the TextEngine contract the agent-loop tests rely on."""

from __future__ import annotations

import pytest

from localwork.engine.base import TextEngine
from localwork.errors import ContextOverflow, EngineNotReady, GenerationFailed, InvalidRequest
from tests.support.fake_engine import FakeEngine
from tests.support.protocols import mismatched_methods

SAMPLING = {"temperature": 0.0, "seed": 42}


@pytest.fixture
def engine(app):
    def make(replies, **options) -> FakeEngine:
        fake = FakeEngine(app.registry, app.settings, app.events, replies=replies, **options)
        fake.load(None)
        return fake

    return make


def test_the_fake_is_an_engine(engine):
    fake: TextEngine = engine([])
    assert isinstance(fake, TextEngine)
    assert mismatched_methods(FakeEngine, TextEngine) == []


def test_it_streams_the_scripted_text_in_pieces_and_records_the_request(engine):
    fake = engine([{"text": "Hello there."}])
    pieces: list[str] = []
    result = fake.generate("<prompt>", 64, SAMPLING, pieces.append, stop=["<tool_call>"])
    assert pieces == ["Hell", "o th", "ere."]
    assert result["stop_reason"] == "eos" and result["stop_text"] is None
    assert (result["prompt_tokens"], result["completion_tokens"]) == (3, 3)
    assert fake.count_tokens("12345678") == 3  # a token per 4 characters, plus one
    assert fake.status()["last_stats"] == result
    (request,) = fake.requests
    assert request["prompt"] == "<prompt>" and request["max_tokens"] == 64
    assert request["stop"][0] == "<tool_call>" and "<|im_end|>" in request["stop"]


def test_free_text_ends_at_the_end_marker_and_stop_text_names_only_the_callers_stops(engine):
    fake = engine([{"text": "Paris.<|im_end|>more"}, {"text": "Let me look.<tool_call>{"}])
    shown: list[str] = []
    ended = fake.generate("p", 64, SAMPLING, shown.append)
    assert "".join(shown) == "Paris."
    assert (ended["stop_reason"], ended["stop_text"]) == ("stop", None)
    shown.clear()
    opened = fake.generate("p", 64, SAMPLING, shown.append, stop=["<tool_call>"])
    assert "".join(shown) == "Let me look."
    assert (opened["stop_reason"], opened["stop_text"]) == ("stop", "<tool_call>")
    shown.clear()
    fake.add_replies([{"text": "x<|im_end|>y"}])
    fake.generate("p", 64, SAMPLING, shown.append, grammar={"gbnf": "root ::= .*"})
    assert "".join(shown) == "x<|im_end|>y"  # under a whole grammar only the grammar ends it
    assert fake.requests[-1]["stop"] is None


def test_it_keeps_to_the_token_limit_and_the_context(engine):
    fake = engine([{"text": "word " * 100}])
    result = fake.generate("p", 5, SAMPLING, lambda _: None)
    assert (result["stop_reason"], result["completion_tokens"]) == ("length", 5)
    n_ctx = fake.ensure_ready().plan.n_ctx
    with pytest.raises(ContextOverflow):
        fake.generate("x" * (4 * n_ctx), 16, SAMPLING, lambda _: None)


def test_it_fails_with_a_coded_error_and_when_the_script_runs_out(engine):
    fake = engine([{"error": {"code": "invalid_request", "message": "no such grammar"}}])
    with pytest.raises(InvalidRequest, match="no such grammar"):
        fake.generate("p", 16, SAMPLING, lambda _: None)
    with pytest.raises(GenerationFailed, match="no reply number 2"):
        fake.generate("p", 16, SAMPLING, lambda _: None)


def test_it_scores_with_the_scorer_it_was_given_and_only_then(engine):
    plain = engine([])
    assert not plain.ensure_ready().can_score
    with pytest.raises(InvalidRequest):
        plain.score("p", ["a"])
    rating = engine([], scorer=lambda prompt, continuation: -float(len(continuation)))
    assert rating.ensure_ready().can_score
    assert rating.score("p", ["a", "abc"]) == [-1.0, -3.0]
    assert rating.scored == [("p", ["a", "abc"])]


def test_a_cancelled_reply_keeps_what_it_wrote(engine):
    fake = engine([{"text": "word " * 50}])
    shown: list[str] = []

    def stop_after_two(piece: str) -> None:
        shown.append(piece)
        if len(shown) == 2:
            fake.cancel()

    result = fake.generate("p", 256, SAMPLING, stop_after_two)
    assert result["stop_reason"] == "cancelled" and "".join(shown) == "word wor"


def test_nothing_is_ready_before_a_load_and_a_failed_load_keeps_its_error(app):
    fake = FakeEngine(app.registry, app.settings, app.events)
    with pytest.raises(EngineNotReady):
        fake.ensure_ready()
    fake.load("no-such-model")
    assert fake.status()["state"] == "error"
    with pytest.raises(Exception, match="no-such-model") as failed:
        fake.ensure_ready()
    assert failed.value.code == fake.status()["error"]["code"]
