"""The MCP servers the client's tests run: where they are installed, and configs that start them.

``bash build/setup.sh test`` installs the real ones, written by others, into
``.cache/test-servers/``: mcp-server-time and mcp-server-git from PyPI in a virtualenv of their
own, @modelcontextprotocol/server-everything from npm. A test that needs one that is missing
fails, naming that command: it never skips. The misbehaving ones are ``mcp_fault_servers.py``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from localwork.tools.mcp.config import StdioServer

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_SERVERS = REPO_ROOT / ".cache" / "test-servers"
SETUP_COMMAND = "bash build/setup.sh test tests/mcp"
EVERYTHING_PACKAGE = "@modelcontextprotocol/server-everything"
_HTTP_START_SECONDS = 60.0


def installed(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(
            f"{what} is not installed ({path} is missing). Run `{SETUP_COMMAND}`: it installs "
            "the MCP test servers into .cache/test-servers, then runs these tests.",
            pytrace=False,
        )
    return path


def python_server(name: str) -> str:
    return str(installed(TEST_SERVERS / "mcp-venv" / "bin" / name, f"The PyPI server {name}"))


def time_server(**settings: Any) -> StdioServer:
    return StdioServer(command=python_server("mcp-server-time"), **settings)


def git_server(repository: Path, **settings: Any) -> StdioServer:
    command = python_server("mcp-server-git")
    return StdioServer(command=command, args=("--repository", str(repository)), **settings)


def node() -> str:
    found = shutil.which("node")
    if not found:
        pytest.fail("Node.js is not installed: the npm test server needs it.", pytrace=False)
    return found


def npm_folder() -> Path:
    return TEST_SERVERS / "npm"


def everything_script() -> Path:
    script = npm_folder() / "node_modules" / EVERYTHING_PACKAGE / "dist" / "index.js"
    return installed(script, f"The npm server {EVERYTHING_PACKAGE}")


def everything_server(**settings: Any) -> StdioServer:
    """server-everything over stdio, started with ``node`` found on PATH."""
    everything_script()
    return StdioServer(command="node", args=(str(everything_script()), "stdio"), **settings)


def everything_over_npx(**settings: Any) -> StdioServer:
    """As users configure it: ``npx``, which runs the server in a node process of its own."""
    everything_script()
    args = ("--no-install", "mcp-server-everything", "stdio")
    return StdioServer(command="npx", args=args, cwd=str(npm_folder()), **settings)


class EverythingOverHttp:
    """server-everything's Streamable HTTP mode on a free 127.0.0.1 port, stopped and started
    again at will (on the same port)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> EverythingOverHttp:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        # Its README's `streamableHttp` argument; its code reads the port from PORT.
        self._process = subprocess.Popen(
            [node(), str(everything_script()), "streamableHttp"],
            env={**os.environ, "PORT": str(self.port)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        _wait_for_line(self._process, "listening on port", _HTTP_START_SECONDS)

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def _wait_for_line(process: subprocess.Popen[str], words: str, timeout: float) -> None:
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:  # to the end: the server must never block on a full pipe
            seen.append(line.rstrip())
            if words in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout):
        pytest.fail(f"server-everything did not start over HTTP: {seen[-10:]}", pytrace=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fault_server(mode: str, **settings: Any) -> StdioServer:
    """A misbehaving server (``mcp_fault_servers.py``), run from the repository's root."""
    args = ("-m", "tests.support.mcp_fault_servers", mode)
    return StdioServer(command=sys.executable, args=args, cwd=str(REPO_ROOT), **settings)


def is_running(pid: int) -> bool:
    """Alive, and not a zombie waiting for a parent that will never reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:g} s: {what}", pytrace=False)
        time.sleep(0.05)
