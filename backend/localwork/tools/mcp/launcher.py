"""Runs one stdio MCP server in its own process group, and takes the group down with the app.

    python -I launcher.py APP_PID EXECUTABLE [ARGS...]

The SDK starts this in a new session, so a process group of its own, with the server's pipes;
the server inherits them, and whatever the server starts joins the group. However the app
ends (a clean close, a crash, SIGKILL), the group goes with it:

- on Linux the kernel sends this process SIGTERM when the app dies (``PR_SET_PDEATHSIG``);
  elsewhere a thread watches for the app's exit;
- on SIGTERM (the SDK closing the server, or the app's death) it sends the whole group
  SIGTERM, and SIGKILL a few seconds later if anything is left;
- when the server exits on its own, what it left running in the group is stopped the same
  way, and a failure is written on stderr, where the app reads the server's last words.

It imports only the standard library and nothing of the app: it runs as a bare script.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

GRACE_SECONDS = 3  # between SIGTERM and SIGKILL
_APP_POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_stopping = False


def command_line(app_pid: int, executable: str, args: Sequence[str]) -> list[str]:
    """How the app starts ``executable`` under this launcher."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle re-runs its own executable
        return [sys.executable, "--mcp-launcher", str(app_pid), executable, *args]
    # -I: no PYTHON* variables, no user site, and not the script's folder on sys.path.
    return [sys.executable, "-I", os.path.abspath(__file__), str(app_pid), executable, *args]


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: launcher.py APP_PID EXECUTABLE [ARGS...]", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _stop_the_group)
    _follow_the_app(int(argv[0]))
    try:
        server = subprocess.Popen(list(argv[1:]))  # same pipes, same process group
    except OSError as error:
        print(f"cannot start {argv[1]}: {error.strerror or error}", file=sys.stderr, flush=True)
        return 127
    _let_go_of_the_pipes()
    status = server.wait()
    if not _stopping and status != 0:
        print(_describe_exit(status), file=sys.stderr, flush=True)
    _stop_what_is_left()
    return status if status >= 0 else 128 - status


def _follow_the_app(app_pid: int) -> None:
    """Get SIGTERM when the app is gone, whichever way it went."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # Orphans the server leaves become this process's children, so it can wait for them.
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1)
        if os.getppid() != app_pid:  # the app died before the kernel was told to tell us
            _stop_the_group()
        return

    def watch() -> None:
        while os.getppid() == app_pid:
            time.sleep(_APP_POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="app-watch", daemon=True).start()


def _let_go_of_the_pipes() -> None:
    # Only the server talks MCP: once it exits, its stdout must read as closed at once.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)


def _stop_the_group(signum: int | None = None, frame: FrameType | None = None) -> None:
    """SIGTERM to everyone in the group now, SIGKILL (this process too) after the grace."""
    global _stopping
    if _stopping:
        return
    _stopping = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the group's SIGTERM reaches us too
    signal.signal(signal.SIGALRM, _kill_the_group)
    signal.alarm(GRACE_SECONDS)
    _signal_the_group(signal.SIGTERM)


def _kill_the_group(signum: int, frame: FrameType | None) -> None:
    _signal_the_group(signal.SIGKILL)


def _signal_the_group(signum: int) -> None:
    with contextlib.suppress(OSError):  # the group is already gone
        os.killpg(0, signum)


def _stop_what_is_left() -> None:
    """Stop and wait for what the server left in the group (Linux: its orphans are ours)."""
    _stop_the_group()
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
    signal.alarm(0)


def _describe_exit(status: int) -> str:
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"[the server was killed by {name}]"
    return f"[the server exited with status {status}]"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
