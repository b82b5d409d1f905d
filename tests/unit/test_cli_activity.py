"""``localwork-hero activity`` and ``undo``: the page's audit and undo, from a script."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import localwork_command

_KINDS = {"created", "overwritten", "edited", "moved", "deleted", "created-folder", "undone"}


def lwh(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        localwork_command(*args, "--data-dir", str(data)),
        capture_output=True,
        text=True,
        timeout=60,
    )


def tool(data: Path, folder: Path, name: str, arguments: str) -> None:
    result = lwh(data, "tool", name, arguments, "--grant", f"{folder}:rw", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr


def activity(data: Path, *args: str) -> list[list[str]]:
    result = lwh(data, "activity", *args)
    assert result.returncode == 0, result.stderr
    return [line.split("  ") for line in result.stdout.splitlines()]


def test_activity_lists_each_change_newest_first_and_undo_undoes_it(isolated_user_dirs, tmp_path):
    data, folder = tmp_path / "data", tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("old text\n")
    tool(data, folder, "create_directory", '{"path": "made"}')
    tool(data, folder, "write_file", '{"path": "made/a.txt", "content": "a"}')
    tool(data, folder, "write_file", '{"path": "notes.txt", "content": "new text\\n"}')
    tool(data, folder, "edit_file", '{"path": "notes.txt", "old_text": "new", "new_text": "x"}')
    tool(data, folder, "move_file", '{"source": "made/a.txt", "destination": "b.txt"}')
    tool(data, folder, "delete_file", '{"path": "b.txt"}')

    lines = activity(data)
    assert all(len(line) == 5 for line in lines), lines
    assert [line[1] for line in lines] == [
        "deleted",
        "moved",
        "edited",
        "overwritten",
        "created",
        "created-folder",
    ]
    ids = [int(line[0]) for line in lines]
    assert ids == sorted(ids, reverse=True)
    assert {line[1] for line in lines} <= _KINDS
    assert lines[0][2] == str(folder / "b.txt") and lines[0][4] == "delete_file"
    assert lines[1][2] == f"{folder / 'made' / 'a.txt'} -> {folder / 'b.txt'}"
    assert lines[-1][3][:4].isdigit() and "T" in lines[-1][3]  # ISO 8601 time
    assert len(activity(data, "--limit", "2")) == 2

    # The undo command needs the folder granted in the app, like the page's Undo button.
    refused = lwh(data, "undo", lines[0][0])
    assert refused.returncode == 1 and "Read and change" in refused.stderr
    _save_grant(data, folder)
    undone = lwh(data, "undo", lines[0][0])
    assert undone.returncode == 0, undone.stderr
    assert (folder / "b.txt").read_text() == "a"
    after = activity(data)
    assert after[0][1] == "created" and after[0][4] == "undo"  # the undo is a change too
    assert after[1][1] == "undone" and after[1][0] == lines[0][0]


def test_undo_refuses_over_later_work_with_the_reason(isolated_user_dirs, tmp_path):
    data, folder = tmp_path / "data", tmp_path / "work"
    folder.mkdir()
    tool(data, folder, "write_file", '{"path": "a.txt", "content": "the model wrote this"}')
    (folder / "a.txt").write_text("then the user wrote this")
    _save_grant(data, folder)
    (line,) = activity(data)
    refused = lwh(data, "undo", line[0])
    assert refused.returncode == 1
    assert "changed since" in refused.stderr
    assert (folder / "a.txt").read_text() == "then the user wrote this"
    again = lwh(data, "undo", "999")
    assert again.returncode == 1 and "no change 999" in again.stderr


def test_bad_usage_exits_2(isolated_user_dirs, tmp_path):
    data = tmp_path / "data"
    for args in (
        ("undo", "seven"),
        ("undo",),
        ("undo", "0"),
        ("undo", str(10**20)),
        ("activity", "--limit", "0"),
        ("activity", "--limit", str(10**20)),
    ):
        result = lwh(data, *args)
        assert result.returncode == 2, (args, result.stderr)


def test_tool_refuses_a_grant_inside_the_apps_folders(isolated_user_dirs, tmp_path):
    data = tmp_path / "data"
    for inside in ("backups", "models", "config"):
        (data / inside).mkdir(parents=True, exist_ok=True)
        result = lwh(data, "tool", "list_directory", "{}", "--grant", f"{data / inside}:rw")
        assert result.returncode == 2, result.stdout
        assert "LocalWork Hero's own data" in result.stderr


def _save_grant(data: Path, folder: Path) -> None:
    from localwork.infra.paths import resolve_paths
    from localwork.settings import SettingsStore

    store = SettingsStore(resolve_paths(data).settings_file)
    store.update({"grants": [{"path": str(folder), "mode": "rw"}]})


def test_a_file_name_cannot_fake_a_line(isolated_user_dirs, tmp_path):
    data, folder = tmp_path / "data", tmp_path / "work"
    folder.mkdir()
    (folder / "a\n1  deleted  passwd").write_text("x")  # made by someone else
    tool(data, folder, "delete_file", '{"path": "a\\n1  deleted  passwd"}')
    result = lwh(data, "activity")
    (line,) = result.stdout.splitlines()
    # Only PATH may hold spaces: two fields split off the front and two off the back.
    change_id, kind, rest = line.split("  ", 2)
    path, when, tool_name = rest.rsplit("  ", 2)
    assert kind == "deleted" and tool_name == "delete_file" and change_id.isdigit()
    assert "T" in when
    assert path == f"{folder}/a\\u000a1  deleted  passwd"
