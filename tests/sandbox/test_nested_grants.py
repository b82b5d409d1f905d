"""Issue 16 #7: grants inside grants. The most specific grant decides, whatever the order."""

import pytest

from localwork.tools.audit import AuditLog
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.sandbox.grants import Grant
from tests.sandbox.conftest import FileRunner, run


def runner_for(tmp_path, grants):
    audit = AuditLog(tmp_path / "audit.sqlite3")
    return FileRunner(Sandbox(grants), audit, tmp_path / "backups"), audit


@pytest.fixture(params=["outer first", "inner first"])
def read_only_inside(request, layout, tmp_path):
    """``work`` granted read and change, ``work/sub`` read only, in both orders."""
    outer, inner = Grant.of(layout.work, writable=True), Grant.of(layout.work / "sub", False)
    grants = [outer, inner] if request.param == "outer first" else [inner, outer]
    runner, audit = runner_for(tmp_path, grants)
    yield runner
    audit.close()


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("write_file", {"path": "{work}/sub/deep.txt", "content": "overwritten"}),
        ("write_file", {"path": "{work}/sub/new.txt", "content": "new"}),
        ("edit_file", {"path": "{work}/sub/deep.txt", "old_text": "deep", "new_text": "x"}),
        ("delete_file", {"path": "{work}/sub/deep.txt"}),
        ("create_directory", {"path": "{work}/sub/made"}),
        ("move_file", {"source": "{work}/sub/deep.txt", "destination": "{work}/out.txt"}),
        ("move_file", {"source": "{work}/notes.txt", "destination": "{work}/sub/notes.txt"}),
    ],
)
def test_a_read_only_grant_inside_a_read_write_one_holds(read_only_inside, layout, tool, arguments):
    # Absolute paths: a relative one starts in the first grant, which the order changes.
    result = run(
        read_only_inside, tool, **{k: v.format(work=layout.work) for k, v in arguments.items()}
    )
    assert not result.ok
    assert "read-only grant" in result.error and str(layout.work / "sub") in result.error
    assert (layout.work / "sub" / "deep.txt").read_text() == "deep"
    assert sorted(p.name for p in (layout.work / "sub").iterdir()) == ["deep.txt"]


def test_the_rest_of_the_outer_grant_still_changes(read_only_inside, layout):
    assert run(read_only_inside, "write_file", path=f"{layout.work}/fresh.txt", content="ok").ok
    read = run(read_only_inside, "read_file", path=f"{layout.work}/sub/deep.txt")
    assert read.output["content"] == "deep"


@pytest.mark.parametrize("order", ["outer first", "inner first"])
def test_a_read_write_grant_inside_a_read_only_one_may_change(layout, tmp_path, order):
    outer, inner = Grant.of(layout.work, writable=False), Grant.of(layout.work / "sub", True)
    runner, audit = runner_for(
        tmp_path, [outer, inner] if order == "outer first" else [inner, outer]
    )
    try:
        assert run(runner, "write_file", path=str(layout.work / "sub" / "new.txt"), content="x").ok
        refused = run(runner, "write_file", path=str(layout.work / "notes.txt"), content="x")
        assert not refused.ok and "read-only grant" in refused.error
    finally:
        audit.close()


def test_a_folder_holding_a_read_only_grant_is_not_moved(layout, tmp_path):
    """Moving the parent would carry the read-only folder out of its grant, into the rw one."""
    (layout.work / "sub" / "kept").mkdir()
    (layout.work / "sub" / "kept" / "contract.txt").write_text("signed")
    outer = Grant.of(layout.work, writable=True)
    runner, audit = runner_for(tmp_path, [outer, Grant.of(layout.work / "sub" / "kept", False)])
    try:
        result = run(runner, "move_file", source="sub", destination="elsewhere")
        assert not result.ok and "read-only" in result.error
        assert (layout.work / "sub" / "kept" / "contract.txt").read_text() == "signed"
        assert not (layout.work / "elsewhere").exists()
    finally:
        audit.close()
