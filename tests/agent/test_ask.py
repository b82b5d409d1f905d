"""``localwork-hero ask`` as a user's script runs it: a real process, a scripted engine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.agent.conftest import guided
from tests.conftest import localwork_command
from tests.support.scripted_engine import use_scripted_engine


def ask(tmp_path: Path, replies: list[dict], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **use_scripted_engine(tmp_path / "script.json", replies)}
    return subprocess.run(
        localwork_command("ask", *args, "--data-dir", str(tmp_path / "data")),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_ask_prints_the_answer_with_each_call_and_result(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "invoice.pdf").write_bytes(b"%PDF")
    replies = [*guided("list_directory", path="."), {"text": "You have invoice.pdf."}]
    result = ask(tmp_path, replies, "What is in my folder?", "--grant", str(folder))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == '[tool] list_directory {"path": "."}'
    assert lines[1].startswith("[done] list_directory: ") and "invoice.pdf" in lines[1]
    assert lines[2] == "You have invoice.pdf."


def test_without_yes_a_change_is_refused_and_nothing_is_written(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    replies = [*guided("write_file", path="a.txt", content="x"), {"text": "I could not."}]
    result = ask(tmp_path, replies, "Write a.txt", "--grant", f"{folder}:rw")
    assert result.returncode == 0, result.stderr
    assert "[failed] write_file: approval required" in result.stdout
    assert not (folder / "a.txt").exists()


def test_with_yes_a_change_is_made(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    replies = [*guided("write_file", path="a.txt", content="x"), {"text": "Written."}]
    result = ask(tmp_path, replies, "Write a.txt", "--grant", f"{folder}:rw", "--yes")
    assert result.returncode == 0, result.stderr
    assert (folder / "a.txt").read_text() == "x"
    assert "[done] write_file" in result.stdout


def test_the_grants_are_for_this_run_only(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    ask(tmp_path, [{"text": "Hi."}], "Hello", "--grant", str(folder))
    settings = tmp_path / "data" / "config" / "settings.json"
    assert not settings.exists() or str(folder) not in settings.read_text()


def test_bad_usage_exits_2(tmp_path):
    missing = ask(tmp_path, [], "Hi", "--grant", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "nope" in missing.stderr
    unknown = ask(tmp_path, [], "Hi", "--model", "no-such-model")
    assert unknown.returncode == 2 and "no installed model is called" in unknown.stderr
    mode = ask(tmp_path, [], "Hi", "--tools", "sometimes")
    assert mode.returncode == 2


def test_a_failed_reply_exits_1_with_the_reason(tmp_path):
    result = ask(tmp_path, [], "Hi")  # the scripted engine has nothing to say
    assert result.returncode == 1
    assert "no reply number 1" in result.stderr


def test_a_grant_inside_the_apps_own_folders_is_refused(tmp_path):
    data = tmp_path / "data"
    for inside in ("backups", "models"):
        (data / inside).mkdir(parents=True, exist_ok=True)
        result = ask(tmp_path, [{"text": "unused"}], "Hi", "--grant", f"{data / inside}:rw")
        assert result.returncode == 2
        assert "LocalWork Hero's own data" in result.stderr
