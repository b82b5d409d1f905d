"""The Activity list's summaries: one plain sentence per call, never raw JSON."""

from tests.sandbox.conftest import run


def summaries(runner):
    return [call["summary"] for call in runner.audit.calls()]


def test_each_tool_call_is_summarised_in_plain_words(runner, layout):
    work = layout.work
    for name, arguments in [
        ("list_directory", {"path": "."}),
        ("read_file", {"path": "notes.txt"}),
        ("search_files", {"name_glob": "*.txt"}),
        ("file_info", {"path": "notes.txt"}),
        ("write_file", {"path": "todo.txt", "content": "milk\n"}),
        ("edit_file", {"path": "todo.txt", "old_text": "milk", "new_text": "bread"}),
        ("create_directory", {"path": "archive"}),
        ("move_file", {"source": "todo.txt", "destination": "archive/todo.txt"}),
        ("delete_file", {"path": "archive/todo.txt"}),
    ]:
        result = run(runner, name, **arguments)
        assert result.ok, (name, result.error)
    assert summaries(runner) == [
        f"Listed {work}: 1 folder, 1 file",  # the app's own folder is not listed
        f"Read {work / 'notes.txt'} (lines 1-3 of 3)",
        "Found 2 matching files",
        f"Looked at {work / 'notes.txt'}: file, 29 bytes",
        f"Created {work / 'todo.txt'} (5 bytes)",
        f"Edited {work / 'todo.txt'}",
        f"Created folder {work / 'archive'}",
        f"Moved {work / 'todo.txt'} to {work / 'archive' / 'todo.txt'}",
        f"Deleted file {work / 'archive' / 'todo.txt'} (kept for undo)",
    ]
    assert not any(summary.lstrip().startswith("{") for summary in summaries(runner))


def test_a_failed_call_is_summarised_by_its_error(runner):
    result = run(runner, "read_file", path="missing.txt")
    assert not result.ok
    assert summaries(runner) == [result.error]
