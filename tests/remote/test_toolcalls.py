"""Tool-call deltas into whole calls, by the rules servers in the wild need (the stream
tests send the same quirks through a real server)."""

from __future__ import annotations

from localwork.engine.remote.toolcalls import ToolCall, ToolCallAssembler


def assemble(*deltas: dict) -> list[ToolCall]:
    assembler = ToolCallAssembler()
    for delta in deltas:
        assert assembler.add(delta)
    return assembler.calls()


def test_the_openai_shape_an_id_and_name_first_then_argument_pieces():
    calls = assemble(
        {"index": 0, "id": "call_a", "type": "function", "function": {"name": "read_file"}},
        {"index": 0, "function": {"arguments": '{"pa'}},
        {"index": 0, "function": {"name": "", "arguments": 'th": "a.txt"}'}},
    )
    assert calls == [ToolCall("call_a", "read_file", '{"path": "a.txt"}', {"path": "a.txt"})]


def test_an_index_reused_with_a_new_id_is_a_new_call():
    calls = assemble(
        {"index": 0, "id": "a", "function": {"name": "one", "arguments": "{}"}},
        {"index": 0, "id": "b", "function": {"name": "two", "arguments": "{}"}},
    )
    assert [(call.id, call.name) for call in calls] == [("a", "one"), ("b", "two")]


def test_without_index_or_id_a_new_name_after_whole_arguments_is_a_new_call():
    calls = assemble(
        {"function": {"name": "list", "arguments": '{"path": "."}'}},
        {"function": {"name": "list", "arguments": '{"path": "docs"}'}},
    )
    assert [call.parsed_arguments for call in calls] == [{"path": "."}, {"path": "docs"}]
    assert [call.id for call in calls] == ["call_1", "call_2"]  # made up: an answer names it


def test_a_repeated_name_while_the_arguments_are_unfinished_continues_the_call():
    calls = assemble(
        {"function": {"name": "list", "arguments": '{"path"'}},
        {"function": {"name": "list", "arguments": ': "."}'}},
    )
    assert [(call.name, call.arguments) for call in calls] == [("list", '{"path": "."}')]


def test_arguments_sent_as_an_object_and_no_arguments_at_all():
    calls = assemble(
        {"index": 0, "id": "a", "function": {"name": "find", "arguments": {"q": "é"}}},
        {"index": 1, "id": "b", "function": {"name": "now"}},
    )
    assert calls[0].arguments == '{"q": "é"}' and calls[0].parsed_arguments == {"q": "é"}
    assert calls[1].arguments == "{}" and calls[1].parsed_arguments == {}


def test_arguments_that_are_not_a_json_object_keep_their_text():
    calls = assemble({"index": 0, "id": "a", "function": {"name": "f", "arguments": "[1, 2"}})
    assert calls[0].arguments == "[1, 2" and calls[0].parsed_arguments is None


def test_a_call_goes_back_into_the_conversation_in_the_openai_shape():
    call = ToolCall("call_a", "read_file", '{"path": "a"}', {"path": "a"})
    assert call.to_message() == {
        "id": "call_a",
        "type": "function",
        "function": {"name": "read_file", "arguments": '{"path": "a"}'},
    }


def test_an_entry_that_is_not_an_object_is_refused():
    assert ToolCallAssembler().add("call") is False
