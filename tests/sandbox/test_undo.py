"""Each change a tool makes can be undone, byte for byte."""

import os
from pathlib import Path

import pytest

from localwork.errors import NotFound, ToolError
from localwork.tools.undo import undo_change
from tests.sandbox.conftest import run


def last_change(runner):
    return runner.audit.changes(runner.audit.calls()[-1]["id"])[-1]["id"]


def undo(runner, sandbox):
    return undo_change(sandbox, runner.audit, runner.backups, last_change(runner))


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
        undo_change(sandbox, runner.audit, runner.backups, deletion)
    (layout.work / "notes.txt").unlink()
    undo_change(sandbox, runner.audit, runner.backups, deletion)
    with pytest.raises(NotFound):
        undo_change(sandbox, runner.audit, runner.backups, deletion)


def undo_calls(runner):
    return [call for call in runner.audit.calls() if call["tool"] == "undo"]


@pytest.mark.parametrize("name", ["notes.txt", "fresh.txt"], ids=["overwritten", "created"])
def test_undo_refuses_when_the_user_wrote_since(runner, sandbox, layout, name):
    # Undoing an overwrite would put the old text over the user's; undoing a create, delete it.
    target = layout.work / name
    change(runner, "write_file", path=name, content="the model's text")
    target.write_text("what the user wrote afterwards")
    with pytest.raises(ToolError, match="changed since"):
        undo(runner, sandbox)
    assert target.read_text() == "what the user wrote afterwards"
    (refused,) = undo_calls(runner)  # a refused undo is in the audit log too
    assert not refused["ok"] and "changed since" in refused["summary"]


def test_undo_refuses_while_a_newer_change_to_the_file_stands(runner, sandbox, layout):
    notes = layout.work / "notes.txt"
    original = notes.read_text()
    change(runner, "write_file", path="notes.txt", content="one")
    first = last_change(runner)
    change(runner, "write_file", path="notes.txt", content="two")
    second = last_change(runner)
    change(runner, "write_file", path="notes.txt", content="one")  # back to what `first` left
    third = last_change(runner)
    with pytest.raises(ToolError, match="newer change"):
        undo_change(sandbox, runner.audit, runner.backups, first)
    assert notes.read_text() == "one"
    # Stepping back newest first works.
    undo_change(sandbox, runner.audit, runner.backups, third)
    undo_change(sandbox, runner.audit, runner.backups, second)
    undo_change(sandbox, runner.audit, runner.backups, first)
    assert notes.read_text() == original


def test_undo_keeps_what_it_replaces_and_is_undoable_itself(runner, sandbox, layout):
    notes = layout.work / "notes.txt"
    change(runner, "write_file", path="notes.txt", content="the model's text")
    undone = undo(runner, sandbox)
    (call,) = undo_calls(runner)
    assert call["ok"] and call["decision"] == "approved"
    (kept,) = runner.audit.changes(call["id"])
    assert kept["kind"] == "overwritten" and kept["id"] == undone["change"]
    assert Path(kept["backup"]).read_bytes() == b"the model's text"
    undo_change(sandbox, runner.audit, runner.backups, kept["id"])  # undoing the undo puts it back
    assert notes.read_text() == "the model's text"

    change(runner, "write_file", path="fresh.txt", content="created")
    undo(runner, sandbox)  # deletes fresh.txt, keeping it in the trash
    assert not (layout.work / "fresh.txt").exists()
    (deleted,) = runner.audit.changes(undo_calls(runner)[-1]["id"])
    assert deleted["kind"] == "deleted" and Path(deleted["backup"]).read_bytes() == b"created"


def test_undo_refuses_a_trash_copy_that_is_not_what_was_deleted(runner, sandbox, layout):
    change(runner, "delete_file", path="sub/deep.txt")
    deletion = runner.audit.change(last_change(runner))
    with open(deletion["backup"], "wb") as backup:
        backup.write(b"tampered")
    with pytest.raises(ToolError, match="trash"):
        undo_change(sandbox, runner.audit, runner.backups, deletion["id"])
    assert not (layout.work / "sub" / "deep.txt").exists()


def test_a_private_file_stays_private_in_the_trash_and_after_undo(runner, sandbox, layout):
    notes = layout.work / "notes.txt"
    notes.chmod(0o600)
    change(runner, "delete_file", path="notes.txt")
    backup = runner.audit.change(last_change(runner))["backup"]
    assert os.stat(backup).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(backup)).st_mode & 0o777 == 0o700
    undo(runner, sandbox)
    assert notes.stat().st_mode & 0o777 == 0o600

    notes.chmod(0o640)
    change(runner, "read_file", path="notes.txt")
    change(runner, "write_file", path="notes.txt", content="replaced")
    backup = runner.audit.change(last_change(runner))["backup"]
    assert os.stat(backup).st_mode & 0o777 == 0o640
    undo(runner, sandbox)
    assert notes.stat().st_mode & 0o777 == 0o640


def test_undo_of_a_move_moves_back_only_what_was_moved(runner, sandbox, layout):
    change(runner, "move_file", source="notes.txt", destination="renamed.txt")
    renamed = layout.work / "renamed.txt"
    renamed.unlink()
    renamed.write_text("a file the user put there since")
    with pytest.raises(ToolError, match="replaced since"):
        undo(runner, sandbox)
    assert renamed.read_text() == "a file the user put there since"
    assert not (layout.work / "notes.txt").exists()
