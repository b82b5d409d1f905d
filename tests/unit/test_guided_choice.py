"""Choosing a tool by how likely the request is under each use, and saying what calls did."""

import json

from localwork.chat.outcomes import describe_call, describe_calls, says_nothing
from localwork.engine.local.guided import GuidedCalls, use_prompts
from localwork.tools.base import Tool, Use
from localwork.tools.files import FILE_TOOLS, PathArgument
from localwork.tools.path_choices import PathChoices
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.sandbox.grants import Grant


class RatingRuntime:
    """Rates a request by the words it shares with the text before it: what a real model's
    likelihood does, in the large, for these prompts. Writes nothing of its own."""

    def __init__(self, cancelled: bool = False) -> None:
        self.cancelled = cancelled
        self.rated: list[str] = []

    def score(self, prompt, continuations):
        if self.cancelled:
            return [None for _ in continuations]
        self.rated.append(prompt)
        words = set(prompt.lower().replace('"', " ").split())
        return [
            float(sum(w in words for w in c.lower().strip('".').split())) - 9 for c in continuations
        ]

    def generate(self, prompt, max_tokens, sampling, on_piece, grammar=None, **_):
        properties = grammar["schema"]["properties"]  # a fixed value, or some text
        on_piece(json.dumps({k: p.get("enum", ["text"])[0] for k, p in properties.items()}))
        return {"stop_reason": "eos"}


def choices_for(tmp_path, request):
    (tmp_path / "todo.txt").write_text("- milk\n")
    return PathChoices.gather(Sandbox([Grant.of(tmp_path, writable=True)]), request)


def test_the_use_whose_examples_make_the_request_likeliest_is_chosen_with_what_it_fixes(
    tmp_path,
):
    runtime = RatingRuntime()
    request = "Add 'water the plants' to the end of todo.txt"
    tools = {n: FILE_TOOLS[n] for n in ("write_file", "read_file", "delete_file")}
    call = GuidedCalls(runtime).write(
        "<lead>", request, 64, tools, choices_for(tmp_path, request), {}
    )
    assert call is not None and call.name == "write_file"
    assert call.arguments["append"] is True and call.arguments["path"] == "todo.txt"
    # Every example of every use was put before the request, and the request rated after it.
    expected = sum(len(use_prompts(u)) for t in tools.values() for u in t.all_uses())
    assert len([p for p in runtime.rated if p.startswith("A request to ")]) == expected


def test_a_tool_without_uses_is_rated_by_its_description(tmp_path):
    plain = Tool("shred_file", "Shred a file beyond recovery.", PathArgument, lambda c, a: {})
    assert plain.all_uses() == (Use("shred a file beyond recovery", ()),)
    assert use_prompts(plain.all_uses()[0]) == ['A request to shred a file beyond recovery:\n"']
    chosen = GuidedCalls(RatingRuntime()).choose(
        "shred the file beyond recovery",
        {"shred_file": plain, "read_file": FILE_TOOLS["read_file"]},
    )
    assert chosen is not None and chosen.tool is plain


def test_a_request_naming_a_file_means_a_tool_that_takes_it_and_text_only_when_given(tmp_path):
    runtime = RatingRuntime()
    # "list what is in a folder" shares most words with this request, but it names a file.
    request = "What is in todo.txt, list it"
    call = GuidedCalls(runtime).write(
        "<lead>", request, 64, dict(FILE_TOOLS), choices_for(tmp_path, request), {}
    )
    assert call is not None and FILE_TOOLS[call.name].path_roles.get("path") != "folder"
    assert not any("append" in p or "new file" in p for p in runtime.rated)  # no text given
    assert call.arguments["path"] == "todo.txt"


def test_a_cancelled_rating_makes_no_call(tmp_path):
    request = "Delete todo.txt"
    call = GuidedCalls(RatingRuntime(cancelled=True)).write(
        "<lead>", request, 64, dict(FILE_TOOLS), choices_for(tmp_path, request), {}
    )
    assert call is None


def test_an_answer_of_only_markup_or_json_says_nothing():
    assert says_nothing("")
    assert says_nothing('<tool_response>\n{"path": "x", "entries": []}\n</tool_response>')
    assert says_nothing('```json\n{"a": 1}\n```')
    assert says_nothing('<tool_response>\n{"entries": [{id: "invented"}]')  # not even JSON
    assert says_nothing('<tool_call>{"name": "read_file", "arguments": {"path": "a"}}</tool_call>')
    assert not says_nothing("The folder holds notes.txt.")
    assert not says_nothing("Braces {like these} in a sentence are words")


def test_calls_are_described_from_their_real_results():
    listing = {
        "tool": "list_directory",
        "status": "done",
        "result": {
            "path": "/w",
            "entries": [{"name": "sub", "type": "folder"}, {"name": "a.txt", "type": "file"}],
        },
    }
    assert describe_call(listing) == "/w holds 2: sub/, a.txt."
    moved = {"tool": "move_file", "status": "done", "result": {"moved": "/w/a", "to": "/w/b"}}
    failed = {"tool": "read_file", "status": "failed", "error": "no such file"}
    denied = {"tool": "delete_file", "status": "denied", "error": "the user denied it"}
    assert describe_calls([moved, failed, denied]) == (
        "- Moved /w/a to /w/b.\n- read_file did not run: no such file\n- You denied delete_file."
    )
