"""``localwork-hero mcp add | list | tools | remove`` and ``ask --tools required`` with an MCP
server, as a user's shell runs them: real processes, the REAL mcp-server-time (from
``.cache/test-servers``), and for ``ask`` the scripted engine."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.agent.conftest import call
from tests.conftest import localwork_command
from tests.support.mcp_servers import TEST_SERVERS, installed
from tests.support.scripted_engine import use_scripted_engine


def time_python() -> str:
    python = TEST_SERVERS / "mcp-venv" / "bin" / "python"
    return str(installed(python, "The PyPI server mcp-server-time's virtualenv"))


def hero(data: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``localwork-hero ARGS`` with ``--data-dir`` after the sub-command's options (before any
    ``--``, whose rest is a server's command line)."""
    args_list = list(args)
    cut = args_list.index("--") if "--" in args_list else len(args_list)
    argv = [*args_list[:cut], "--data-dir", str(data), *args_list[cut:]]
    return subprocess.run(
        localwork_command(*argv),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_add_list_tools_remove_a_real_stdio_server(tmp_path):
    data = tmp_path / "data"
    added = hero(
        data, "mcp", "add", "time", "--timeout", "20", "--", time_python(), "-m", "mcp_server_time"
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == (
        f"saved time ({time_python()} -m mcp_server_time); see 'localwork-hero mcp list' for "
        "its state\n"
    )
    saved = json.loads((data / "config" / "mcp.json").read_text("utf-8"))
    assert saved == {
        "mcpServers": {
            "time": {"command": time_python(), "args": ["-m", "mcp_server_time"], "timeout": 20.0}
        }
    }

    listed = hero(data, "mcp", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == f"time\tready (2 tools)\t{time_python()} -m mcp_server_time\n"

    tools = hero(data, "mcp", "tools", "time")
    assert tools.returncode == 0, tools.stderr
    names = [line.split("\t")[0] for line in tools.stdout.splitlines()]
    assert names == ["get_current_time", "convert_time"]
    assert tools.stdout.startswith("get_current_time\tGet current time")

    removed = hero(data, "mcp", "remove", "time")
    assert (removed.returncode, removed.stdout) == (0, "removed time\n")
    assert hero(data, "mcp", "list").stdout.startswith("no MCP servers yet")


def test_a_command_that_is_not_there_is_listed_as_failed(tmp_path):
    data = tmp_path / "data"
    assert (
        hero(data, "mcp", "add", "gone", "--env", "K=v", "--", "no-such-mcp-server-cmd").returncode
        == 0
    )
    listed = hero(data, "mcp", "list")
    assert listed.returncode == 0
    name, state, command = listed.stdout.rstrip("\n").split("\t")
    assert (name, command) == ("gone", "no-such-mcp-server-cmd")
    assert state.startswith("failed: command not found: no-such-mcp-server-cmd")
    tools = hero(data, "mcp", "tools", "gone")
    assert tools.returncode == 1 and "command not found" in tools.stderr


def test_an_http_server_is_saved_with_its_headers(tmp_path):
    data = tmp_path / "data"
    added = hero(
        data, "mcp", "add", "web", "--url", "https://example.com/mcp", "--header", "X-Key: abc"
    )
    assert added.returncode == 0, added.stderr
    saved = json.loads((data / "config" / "mcp.json").read_text("utf-8"))
    assert saved["mcpServers"]["web"] == {
        "url": "https://example.com/mcp",
        "headers": {"X-Key": "abc"},
    }


def test_usage_errors_exit_2_and_unknown_names_exit_1(tmp_path):
    data = tmp_path / "data"
    assert hero(data, "mcp", "add", "x").returncode == 2  # neither a command nor --url
    both = hero(data, "mcp", "add", "x", "--url", "https://e.com/mcp", "--", "cmd")
    assert both.returncode == 2 and "not both" in both.stderr
    assert hero(data, "mcp", "add", "x", "--env", "novalue", "--", "cmd").returncode == 2
    assert hero(data, "mcp", "add", "two words", "--", "cmd").returncode == 2
    assert hero(data, "mcp", "add", "x", "--timeout", "-1", "--", "cmd").returncode == 2
    assert hero(data, "mcp", "add", "x", "--", "cmd").returncode == 0
    taken = hero(data, "mcp", "add", "x", "--", "cmd")
    assert taken.returncode == 2 and "already" in taken.stderr
    missing = hero(data, "mcp", "remove", "nope")
    assert missing.returncode == 1 and "no MCP server named 'nope'" in missing.stderr
    assert hero(data, "mcp", "tools", "nope").returncode == 1


def ask(
    tmp_path: Path, replies: list[dict], *args: str, script: str = "script.json"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **use_scripted_engine(tmp_path / script, replies)}
    return hero(tmp_path / "data", "ask", *args, env=env)


def add_time(tmp_path: Path, policy: dict[str, str] | None = None) -> None:
    data = tmp_path / "data"
    assert (
        hero(data, "mcp", "add", "time", "--", time_python(), "-m", "mcp_server_time").returncode
        == 0
    )
    if policy:
        path = data / "config" / "mcp.json"
        document = json.loads(path.read_text("utf-8"))
        document["mcpServers"]["time"]["toolPolicy"] = policy
        path.write_text(json.dumps(document), encoding="utf-8")


def test_ask_tools_required_uses_an_mcp_server_without_a_folder(tmp_path):
    add_time(tmp_path)
    replies = [call("get_current_time", timezone="UTC"), {"text": "It is now."}]
    result = ask(tmp_path, replies, "What time is it in UTC?", "--tools", "required")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == '[tool] get_current_time {"timezone": "UTC"}'
    assert lines[1].startswith("[done] get_current_time: ") and "UTC" in lines[1]
    assert lines[-1] == "It is now."


def test_ask_refuses_an_asking_mcp_tool_without_yes_and_runs_it_with_yes(tmp_path):
    add_time(tmp_path, {"get_current_time": "ask"})
    replies = [call("get_current_time", timezone="UTC"), {"text": "Answer."}]
    refused = ask(tmp_path, replies, "Time?", "--tools", "required")
    assert refused.returncode == 0, refused.stderr
    assert (
        "[failed] get_current_time: approval required: a call to the MCP server time needs "
        "the user's approval"
    ) in refused.stdout
    approved = ask(tmp_path, replies, "Time?", "--tools", "required", "--yes", script="2.json")
    assert approved.returncode == 0, approved.stderr
    assert "[done] get_current_time" in approved.stdout


def test_ask_tools_required_without_tools_is_a_usage_error(tmp_path):
    result = ask(tmp_path, [], "Hi", "--tools", "required")
    assert result.returncode == 2
    assert "--grant DIR" in result.stderr and "localwork-hero mcp add" in result.stderr
