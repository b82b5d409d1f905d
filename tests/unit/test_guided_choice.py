"""Choosing a tool by calibrated likelihood, and saying what calls did."""

from localwork.chat.guided import best_calibrated
from localwork.chat.outcomes import describe_call, describe_calls, says_nothing


def test_the_tool_that_gains_most_over_its_content_free_score_wins():
    names = ["delete_file", "list_directory", "read_file"]
    # Raw scores prefer delete_file, but it is as likely after "N/A": a bias, not a choice.
    assert best_calibrated(names, [-2.0, -5.0, -6.0], [-2.1, -9.0, -6.5]) == "list_directory"
    assert best_calibrated(names, [-2.0, None, -6.0], [-2.1, -9.0, -6.5]) is None  # cancelled
    assert best_calibrated([], [], []) is None


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
