"""The tool-source seam: the runner validates, approves, runs and audits every source's calls
alike; a name two sources share is qualified; tools are offered when a source is available."""

import pytest

from localwork.tools.audit import AuditLog
from localwork.tools.file_source import FileToolSource
from localwork.tools.runner import ToolRunner
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.sandbox.grants import Grant
from localwork.tools.source import ToolSource
from tests.support.tool_sources import NotesSource


@pytest.fixture
def audit(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite3")
    yield log
    log.close()


def runner_with(notes, audit, tmp_path, granted=False):
    grants = [Grant.of(tmp_path, writable=True)] if granted else []
    files = FileToolSource(Sandbox(grants), tmp_path / "backups")
    return ToolRunner([files, notes], audit)


def test_both_sources_satisfy_the_seam(tmp_path):
    assert isinstance(NotesSource(), ToolSource)
    assert isinstance(FileToolSource(Sandbox([]), tmp_path), ToolSource)


def test_a_source_is_offered_without_any_folder_granted(audit, tmp_path):
    runner = runner_with(NotesSource(), audit, tmp_path)
    assert set(runner.offered) == {"echo", "stamp", "notes_read_file"}
    assert {"read_file", "write_file", "notes_read_file"} <= set(runner.tools)
    granted = runner_with(NotesSource(), audit, tmp_path, granted=True)
    assert {"read_file", "echo", "notes_read_file"} <= set(granted.offered)


def test_a_shared_name_is_qualified_and_reaches_its_own_source(audit, tmp_path):
    notes = NotesSource()
    runner = runner_with(notes, audit, tmp_path, granted=True)
    result = runner.run("notes_read_file", {"text": "hi"})
    assert result.ok and result.output == {"text": "hi"}
    assert notes.calls == [("read_file", {"text": "hi"})]  # the source's own name
    assert runner.offered["notes_read_file"].schema()["function"]["name"] == "notes_read_file"


def test_arguments_are_checked_against_the_json_schema(audit, tmp_path):
    notes = NotesSource()
    runner = runner_with(notes, audit, tmp_path)
    missing = runner.run("echo", {})
    assert not missing.ok and missing.error == "invalid arguments: 'text' is a required property"
    wrong = runner.run("echo", {"text": 3})
    assert not wrong.ok and "text: 3 is not of type 'string'" in wrong.error
    assert runner.preview("stamp", []) == {
        "error": "invalid arguments: the arguments must be a JSON object"
    }
    assert notes.calls == []  # nothing ran
    assert [call["decision"] for call in audit.calls()] == ["refused", "refused"]


def test_a_tool_that_may_change_something_waits_for_approval_and_is_audited(audit, tmp_path):
    notes = NotesSource()
    runner = runner_with(notes, audit, tmp_path)
    assert runner.needs_approval("stamp") and not runner.needs_approval("echo")
    assert runner.preview("stamp", {"text": "hello"})["summary"] == "Stamp 'hello' on the board"
    refused = runner.run("stamp", {"text": "hello"})
    assert not refused.ok and "approval required" in refused.error and notes.stamped == []
    denied = runner.run("stamp", {"text": "hello"}, approval="denied", reason="not now")
    assert denied.error == "the user denied this stamp call: not now" and notes.stamped == []
    done = runner.run("stamp", {"text": "hello"}, approval="approved", conversation_id="c1")
    assert done.ok and notes.stamped == ["hello"]
    read = runner.run("echo", {"text": "quiet"})  # a read needs no approval
    assert read.ok
    failed = runner.run("stamp", {"text": "fail"}, approval="approved")
    assert not failed.ok and failed.error == "the board is full"
    calls = audit.calls()
    assert [(c["tool"], c["decision"], bool(c["ok"])) for c in calls] == [
        ("stamp", "refused", False),
        ("stamp", "denied", False),
        ("stamp", "approved", True),
        ("echo", "auto", True),
        ("stamp", "approved", False),
    ]
    assert calls[2]["conversation_id"] == "c1" and audit.changes(calls[0]["id"]) == []
