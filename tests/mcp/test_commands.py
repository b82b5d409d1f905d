"""Finding a stdio server's command: a path as it is, a name on PATH, or on the PATH a login
shell sets up (where nvm and uv put npx and uvx), else a message that says what to install."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from localwork.errors import McpCommandNotFound
from localwork.tools.mcp.commands import ResolvedCommand, login_shell_path, resolve_command
from localwork.tools.mcp.config import StdioServer
from tests.mcp.conftest import MakeManager
from tests.support.mcp_servers import REPO_ROOT


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def login_shell(tmp_path: Path) -> tuple[str, Path]:
    """A fake login shell whose rc files set PATH to one folder (and print a banner)."""
    extra = tmp_path / "login-bin"
    extra.mkdir()
    shell = executable(
        tmp_path / "fake-shell",
        f'#!/bin/sh\necho "Welcome back!"\nPATH="{extra}"; export PATH\n'
        'for script; do :; done\nexec /bin/sh -c "$script"\n',
    )
    return str(shell), extra


def test_a_path_is_used_as_it_is_and_a_name_is_found_on_path(tmp_path: Path):
    tool = executable(tmp_path / "tool", "#!/bin/sh\n")
    assert resolve_command(str(tool)) == ResolvedCommand(str(tool))
    assert resolve_command("./tool", cwd=str(tmp_path)) == ResolvedCommand(str(tool))
    assert resolve_command("tool", search_path=str(tmp_path)) == ResolvedCommand(str(tool))
    with pytest.raises(McpCommandNotFound, match="does not exist"):
        resolve_command(str(tmp_path / "absent"))
    (tmp_path / "plain").write_text("")
    with pytest.raises(McpCommandNotFound, match="not executable"):
        resolve_command(str(tmp_path / "plain"))


def test_a_name_only_the_login_shell_knows_is_found_there(tmp_path: Path, login_shell):
    shell, extra = login_shell
    npx = executable(extra / "npx", "#!/bin/sh\n")
    assert login_shell_path(shell).split(os.pathsep)[0] == str(extra)
    found = resolve_command("npx", search_path=str(tmp_path), shell=shell)
    assert found.executable == str(npx) and found.search_path == login_shell_path(shell)


@pytest.mark.parametrize(
    ("command", "hint"),
    [
        ("npx", "install Node.js"),
        ("node", "install Node.js"),
        ("uvx", "install uv"),
        ("python3", "install Python"),
        ("mcp-server-nonesuch", "install mcp-server-nonesuch"),
    ],
)
def test_a_missing_command_says_what_to_install(tmp_path: Path, login_shell, command, hint):
    shell, _ = login_shell
    with pytest.raises(McpCommandNotFound) as caught:
        resolve_command(command, search_path=str(tmp_path), shell=shell)
    assert caught.value.message.startswith(f"command not found: {command} — {hint}")
    assert f"full path to {command}" in caught.value.message


def test_a_server_found_on_the_login_shell_s_path_runs_with_that_path(
    make_manager: MakeManager, tmp_path: Path, login_shell, monkeypatch: pytest.MonkeyPatch
):
    # Like npx, a "#!/usr/bin/env node" script: it needs its interpreter on its PATH too.
    shell, extra = login_shell
    executable(extra / "login-python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    executable(
        extra / "login-mcp-server",
        "#!/usr/bin/env login-python\n"
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        "sys.argv[1:] = ['serve']\n"
        "runpy.run_module('tests.support.mcp_fault_servers', run_name='__main__')\n",
    )
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.setenv("SHELL", shell)
    servers = make_manager({"found": StdioServer(command="login-mcp-server")})
    assert servers.call_tool("found", "echo", {"text": "found it"}).text() == "found it"
