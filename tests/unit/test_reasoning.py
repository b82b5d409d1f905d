"""The reasoning splitter: <think> blocks in a streamed reply, however the deltas cut them."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from localwork.engine.reasoning import Piece, ReasoningSplitter


def split(deltas: list[str], *, starts_in_reasoning: bool = False) -> tuple[list[Piece], str, str]:
    splitter = ReasoningSplitter(starts_in_reasoning=starts_in_reasoning)
    pieces = [piece for delta in deltas for piece in splitter.feed(delta)]
    pieces += splitter.finish()
    return pieces, splitter.text, splitter.reasoning


def shown(pieces: list[Piece]) -> tuple[str, str]:
    """What a caller that follows the pieces shows: (text, reasoning)."""
    text = reasoning = ""
    for piece in pieces:
        if piece.kind == "text":
            text += piece.text
        elif piece.kind == "reasoning":
            reasoning += piece.text
        else:
            assert text == piece.text  # it moves exactly what it had been given as text
            text, reasoning = "", piece.text + reasoning
    return text, reasoning


def test_a_reply_without_tags_is_all_text_and_keeps_its_own_start():
    pieces, text, reasoning = split(["\n  Hello", " world"])
    assert (text, reasoning) == ("\n  Hello world", "")
    assert pieces == [Piece("text", "\n  Hello"), Piece("text", " world")]


def test_a_think_block_is_reasoning_and_the_newline_after_each_tag_is_dropped():
    _, text, reasoning = split(["<think>\nLet me see.\n</think>\n\nThe answer is 4."])
    assert (text, reasoning) == ("The answer is 4.", "Let me see.\n")


def test_a_tag_split_across_deltas_is_still_a_tag():
    pieces, text, reasoning = split(["<", "th", "ink>plan", "ning</t", "hink", ">done"])
    assert (text, reasoning) == ("done", "planning")
    assert shown(pieces) == (text, reasoning)


def test_a_lone_less_than_sign_is_text_once_the_next_delta_shows_it_is_no_tag():
    pieces, text, _ = split(["a <", " b"])
    assert text == "a < b"
    assert pieces == [Piece("text", "a "), Piece("text", "< b")]


def test_a_held_back_tail_comes_out_at_the_end():
    _, text, _ = split(["x </thi"])
    assert text == "x </thi"


def test_a_reply_that_starts_inside_the_reasoning_when_the_template_says_so():
    pieces, text, reasoning = split(
        ["\nthinking", " more</think>", "\nAnswer"], starts_in_reasoning=True
    )
    assert (text, reasoning) == ("Answer", "thinking more")
    assert all(piece.kind != "refiled" for piece in pieces)


def test_a_lone_close_tag_refiles_the_text_given_so_far_as_reasoning():
    pieces, text, reasoning = split(["Okay, the user", " wants 4.", " So</think>", "It is 4."])
    assert (text, reasoning) == ("It is 4.", "Okay, the user wants 4. So")
    assert pieces == [
        Piece("text", "Okay, the user"),
        Piece("text", " wants 4."),
        Piece("refiled", "Okay, the user wants 4."),
        Piece("reasoning", " So"),
        Piece("text", "It is 4."),
    ]


def test_a_lone_close_tag_in_the_first_delta_is_reasoning_without_a_refile():
    pieces, text, reasoning = split(["plan</think>answer"])
    assert pieces == [Piece("reasoning", "plan"), Piece("text", "answer")]
    assert (text, reasoning) == ("answer", "plan")


def test_a_close_tag_after_a_finished_block_is_plain_text():
    _, text, reasoning = split(["<think>a</think>b </think> c"])
    assert (text, reasoning) == ("b </think> c", "a")


def test_an_open_tag_inside_the_reasoning_is_part_of_it():
    _, text, reasoning = split(["<think>what does <think> mean?</think>It opens."])
    assert (text, reasoning) == ("It opens.", "what does <think> mean?")


REPLIES = [
    "<think>\nstep one\nstep two\n</think>\n\nThe result.",
    "no reasoning here, just a < and a > and </thin",
    "inside already</think>\nthen text with <think>a second block</think> and more",
    "<think></think>empty block",
]


@given(
    reply=st.sampled_from(REPLIES),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
)
def test_any_cut_into_deltas_gives_the_same_parts_as_the_whole_reply(reply, cuts):
    bounds = sorted({0, len(reply), *(cut % (len(reply) + 1) for cut in cuts)})
    deltas = [reply[a:b] for a, b in itertools.pairwise(bounds)]
    pieces, text, reasoning = split(deltas)
    _, whole_text, whole_reasoning = split([reply])
    assert (text, reasoning) == (whole_text, whole_reasoning)
    assert shown(pieces) == (text, reasoning)
