"""The launcher a stdio server runs under: it passes the server's exit status on, says on
stderr how a failing server ended, and stops what the server left running in its group."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from localwork.tools.mcp import launcher
from tests.support.mcp_servers import REPO_ROOT, is_running, wait_until

# A server that starts a helper, says its pid, and exits 7 without stopping it.
_LEAVES_A_HELPER = (
    "import subprocess, sys\n"
    "helper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
    "print(helper.pid, flush=True)\n"
    "raise SystemExit(7)\n"
)


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    # In a session of its own, as the SDK starts it: the launcher signals its process group.
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, start_new_session=True, check=False
    )


def as_a_script(*server: str) -> list[str]:
    return launcher.command_line(os.getpid(), server[0], server[1:])


def as_the_bundle_runs_it(*server: str) -> list[str]:
    return [sys.executable, "-m", "localwork", "--mcp-launcher", str(os.getpid()), *server]


@pytest.mark.parametrize(
    "launched", [as_a_script, as_the_bundle_runs_it], ids=lambda launch: launch.__name__
)
def test_the_launcher_passes_the_status_on_and_stops_what_the_server_left(
    launched, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO_ROOT / "backend"), str(REPO_ROOT)]))
    done = run(launched(sys.executable, "-c", _LEAVES_A_HELPER))
    assert done.returncode == 7
    assert "[the server exited with status 7]" in done.stderr
    helper = int(done.stdout.split()[0])
    wait_until(lambda: not is_running(helper), 15, "the helper the server left is stopped")


def test_a_command_that_cannot_start_is_said_on_stderr():
    done = run(as_a_script("/nowhere/server"))
    assert done.returncode == 127 and "cannot start /nowhere/server" in done.stderr
