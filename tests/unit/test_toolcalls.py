"""Tool-call parsing with real-shaped outputs of each family, well-formed and not."""

import json

import pytest

from localwork.engine.toolcalls import call_schema, parse_reply
from localwork.tools.files import FILE_TOOLS


def test_hermes_qwen_one_call_with_text_around():
    reply = (
        "Let me look.\n<tool_call>\n"
        '{"name": "list_directory", "arguments": {"path": "Downloads"}}\n</tool_call>'
    )
    parsed = parse_reply(reply)
    assert parsed.text == "Let me look."
    assert [(c.name, c.arguments) for c in parsed.calls] == [
        ("list_directory", {"path": "Downloads"})
    ]


def test_hermes_several_calls_and_an_unclosed_last_one():
    reply = (
        '<tool_call>{"name": "read_file", "arguments": {"path": "a.txt"}}</tool_call>\n'
        '<tool_call>{"name": "read_file", "arguments": {"path": "b.txt"}}'
    )
    assert [c.arguments["path"] for c in parse_reply(reply).calls] == ["a.txt", "b.txt"]


def test_mistral_list_of_calls():
    reply = (
        '[TOOL_CALLS] [{"name": "file_info", "arguments": {"path": "x"}}, '
        '{"name": "read_file", "arguments": {"path": "y"}}]'
    )
    assert [c.name for c in parse_reply(reply).calls] == ["file_info", "read_file"]


def test_llama3_python_tag_and_bare_json():
    tagged = (
        '<|python_tag|>{"name": "search_files", "parameters": {"name_glob": "*.pdf"}}<|eom_id|>'
    )
    assert parse_reply(tagged).calls[0].arguments == {"name_glob": "*.pdf"}
    bare = '{"name": "list_directory", "parameters": {"path": "."}}'
    parsed = parse_reply(bare)
    assert parsed.text == "" and parsed.calls[0].name == "list_directory"
    several = '<|python_tag|>{"name": "a", "parameters": {}}; {"name": "b", "parameters": {}}'
    assert [c.name for c in parse_reply(several).calls] == ["a", "b"]


def test_generic_fenced_and_openai_styles():
    fenced = 'Sure!\n```json\n{"name": "read_file", "arguments": {"path": "n.txt"}}\n```\nDone.'
    parsed = parse_reply(fenced)
    assert parsed.calls[0].arguments == {"path": "n.txt"}
    assert parsed.text == "Sure!\n\nDone."
    openai = json.dumps(
        {"type": "function", "function": {"name": "read_file", "arguments": '{"path": "q"}'}}
    )
    assert parse_reply(openai).calls[0].arguments == {"path": "q"}


def test_plain_text_and_json_that_is_not_a_call():
    assert parse_reply("The answer is 4.").calls == []
    assert parse_reply('Here is data: {"a": 1}').calls == []


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("<tool_call>{name: list_directory}</tool_call>", "not valid JSON"),
        ('<tool_call>{"arguments": {}}</tool_call>', 'needs a "name"'),
        ('<tool_call>{"name": "read_file", "arguments": "{oops"}</tool_call>', "arguments are not"),
        ('<tool_call>{"name": "read_file", "arguments": [1]}</tool_call>', "must be a JSON object"),
        ("[TOOL_CALLS] [{]", "not valid JSON"),
    ],
)
def test_malformed_calls_become_problems_for_the_model(reply, problem):
    (call,) = parse_reply(reply).calls
    assert call.problem and problem in call.problem


def test_the_call_schema_covers_every_tool_and_its_arguments():
    schema = call_schema(FILE_TOOLS)
    names = [option["properties"]["name"]["const"] for option in schema["anyOf"]]
    assert names == sorted(FILE_TOOLS)
    read = next(o for o in schema["anyOf"] if o["properties"]["name"]["const"] == "read_file")
    assert read["properties"]["arguments"]["required"] == ["path"]
    json.dumps(schema)  # serialisable, for the engine's grammar


def test_imitated_tool_response_tags_are_dropped_but_the_words_kept():
    from localwork.engine.toolcalls import without_response_tags

    text = '<tool_response>\n{"entries": ["a.pdf"]}\n</tool_response>\nThat is all.'
    assert without_response_tags(text) == '{"entries": ["a.pdf"]}\nThat is all.'
    assert without_response_tags("Plain words. ") == "Plain words. "  # untouched


@pytest.mark.parametrize(
    ("start", "held"),
    [
        ("", True),
        ("  {", True),
        ('{"na', True),
        ('{"name": "read_file"', True),
        ('{"function": {', True),
        ("```", True),
        ("```json\n{", True),
        ("Sure, here it is", False),
        ('{"title": "not a call"', False),
        ("```python\nprint(1)", False),
        ("```py", False),
    ],
)
def test_only_what_may_be_a_bare_call_is_held_back(start, held):
    from localwork.engine.toolcalls import could_open_a_call

    assert could_open_a_call(start) is held
