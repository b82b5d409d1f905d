"""Saved replies with tool calls as prompt turns, including damaged or hostile metadata."""

import pytest

from localwork.chat.turns import prompt_turns, result_text
from localwork.conversations.export import parse_import, to_json
from localwork.errors import InvalidRequest


def reply(meta):
    return [
        {"role": "user", "content": "hi", "meta": {}, "created_at": 1.0},
        {"role": "assistant", "content": "ok", "meta": meta, "created_at": 2.0},
    ]


def test_rounds_become_one_call_turn_and_one_result_turn_each():
    calls = [
        {
            "id": "c1",
            "round": 0,
            "tool": "list_directory",
            "arguments": {"path": "."},
            "result": {"entries": []},
        },
        {"id": "c2", "round": 1, "tool": "read_file", "arguments": {"path": "a"}, "error": "nope"},
    ]
    turns = prompt_turns(reply({"tool_calls": calls, "round_texts": ["Looking.", ""]}))
    assert [t["role"] for t in turns] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert turns[1]["content"] == "Looking." and turns[4]["content"] == '{"error": "nope"}'


@pytest.mark.parametrize(
    "meta",
    [
        {"tool_calls": [{"round": 10**12, "tool": "read_file"}]},  # no endless loop
        {"tool_calls": [{"tool": "read_file"}], "round_texts": {"x": "y"}},
        {"tool_calls": ["not a call", {"round": "zero", "tool": 7, "arguments": "x"}]},
    ],
)
def test_damaged_metadata_still_makes_a_prompt(meta):
    turns = prompt_turns(reply(meta))
    assert turns[0]["content"] == "hi" and turns[-1]["content"] == "ok"


def test_an_export_with_an_unreadable_call_imports_again_and_hostile_rounds_do_not():
    unreadable = {"id": "c1", "round": 0, "tool": None, "arguments": None, "error": "bad JSON"}
    conversation = {"title": "T", "created_at": 1.0}
    exported = to_json(conversation, reply({"tool_calls": [unreadable], "round_texts": [""]}))
    assert parse_import(exported)
    hostile = to_json(conversation, reply({"tool_calls": [{"tool": "x", "round": 10**12}]}))
    with pytest.raises(InvalidRequest):
        parse_import(hostile)


def test_a_long_result_is_cut_with_a_marker():
    text = result_text({"result": {"content": "x" * 100}}, limit=50)
    assert text.startswith('{"content": "xxx') and "[truncated: kept the first 50 of 115" in text
