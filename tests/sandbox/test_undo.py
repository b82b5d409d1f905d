"""Each change a tool makes can be undone, byte for byte."""

import pytest

from localwork.errors import NotFound
from localwork.tools.base import ToolError
from localwork.tools.undo import undo_change
from tests.sandbox.conftest import run


def last_change(runner):
    return runner._audit.changes(runner._audit.calls()[-1]["id"])[-1]["id"]


def undo(runner, sandbox):
    return undo_change(sandbox, runner._audit, last_change(runner))


def change(runner, name, **arguments):
    result = run(runner, name, **arguments)
    assert result.ok, result.error


def test_undo_each_kind_of_change(runner, sandbox, layout):
    original = (layout.work / "notes.txt").read_bytes()
    change(runner, "write_file", path="notes.txt", content="replaced")
    undo(runner, sandbox)
    assert (layout.work / "notes.txt").read_bytes() == original

    change(runner, "write_file", path="fresh.txt", content="new")
    undo(runner, sandbox)
    assert not (layout.work / "fresh.txt").exists()

    # The undo changed notes.txt behind the model's back: it must read it again first.
    assert "changed on disk" in run(runner, "delete_file", path="notes.txt").error
    change(runner, "read_file", path="notes.txt")
    change(runner, "delete_file", path="notes.txt")
    undo(runner, sandbox)
    assert (layout.work / "notes.txt").read_bytes() == original

    change(runner, "move_file", source="notes.txt", destination="renamed.txt")
    undo(runner, sandbox)
    assert (layout.work / "notes.txt").exists() and not (layout.work / "renamed.txt").exists()

    change(runner, "create_directory", path="made")
    undo(runner, sandbox)
    assert not (layout.work / "made").exists()


def test_undo_twice_or_over_new_content_is_refused(runner, sandbox, layout):
    change(runner, "delete_file", path="notes.txt")
    deletion = last_change(runner)
    (layout.work / "notes.txt").write_text("a new file with the same name")
    with pytest.raises(ToolError, match="exists again"):
        undo_change(sandbox, runner._audit, deletion)
    (layout.work / "notes.txt").unlink()
    undo_change(sandbox, runner._audit, deletion)
    with pytest.raises(NotFound):
        undo_change(sandbox, runner._audit, deletion)
