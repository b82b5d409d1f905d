"""The UI side of the engine: starts the worker process and talks to it over pipes.

The worker is a separate process so that a native crash in llama.cpp cannot take the window
down. When the worker dies, every waiting call raises ``EngineCrashed`` with a plain-words
reason, and ``on_exit`` tells the owner so it can start a new one.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from localwork.engine.local import protocol
from localwork.engine.local.exits import describe_exit, oom_kills
from localwork.errors import EngineCrashed, EngineNotReady, from_dict
from localwork.infra.paths import make_private

log = logging.getLogger(__name__)

_STARTUP_TIMEOUT = 60.0
_STDERR_TAIL_BYTES = 8192
_DEATH = object()

# A JSON list that replaces the worker's command line: how tests run a scripted engine in a
# served app. Only whoever starts the app can set it, and they can run programs anyway.
ENGINE_COMMAND_VARIABLE = "LOCALWORK_ENGINE_COMMAND"


def worker_command() -> list[str]:
    override = os.environ.get(ENGINE_COMMAND_VARIABLE)
    if override:
        return list(json.loads(override))
    if getattr(sys, "frozen", False):  # a PyInstaller bundle re-runs its own executable
        return [sys.executable, "--engine-worker"]
    return [sys.executable, "-m", "localwork.engine.local.worker"]


class EngineClient:
    def __init__(
        self,
        log_file: Path,
        on_exit: Callable[[str], None] | None = None,
        command: list[str] | None = None,
    ) -> None:
        self._log_file = log_file
        self._on_exit = on_exit
        self._command = command or worker_command()
        self._proc: subprocess.Popen[bytes] | None = None
        self._writer: protocol.LineWriter | None = None
        self._pending: dict[int, queue.Queue[Any]] = {}
        self._ids = itertools.count(1)
        self._call_lock = threading.Lock()
        self._current_id: int | None = None
        self._hello = threading.Event()
        self._closing = False
        self._log_start = 0  # where this worker's part of the engine log begins
        self._oom_kills_at_start: int | None = None
        self.exit_reason: str | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self.exit_reason is None

    def start(self, timeout: float = _STARTUP_TIMEOUT) -> None:
        """Start the worker and wait for its hello.

        Raises:
            EngineCrashed: the worker died or stayed silent while starting.
        """
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        make_private(self._log_file)  # the worker's stderr may quote prompts
        self._oom_kills_at_start = oom_kills()
        with open(self._log_file, "ab") as log_handle:
            self._log_start = log_handle.seek(0, os.SEEK_END)
            self._proc = subprocess.Popen(
                self._command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_handle,
                start_new_session=(os.name == "posix"),
            )
        assert self._proc.stdin and self._proc.stdout
        self._writer = protocol.LineWriter(self._proc.stdin)
        threading.Thread(
            target=self._read_replies, args=(self._proc.stdout,), name="engine-reader", daemon=True
        ).start()
        if not self._hello.wait(timeout):
            self.close()
            raise EngineCrashed(
                self.exit_reason or "The model engine did not start in time; see the engine log."
            )
        if self.exit_reason:
            raise EngineCrashed(self.exit_reason)
        log.info("engine worker %s started", self._proc.pid)

    def call(
        self,
        operation: str,
        payload: dict[str, Any],
        on_token: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Send one request and wait for its result; calls are served one at a time.

        Raises:
            EngineCrashed: the worker died before answering.
            LocalWorkError: the worker answered with an error (its code is kept).
        """
        with self._call_lock:
            if not self.alive or self._writer is None:
                raise EngineNotReady(self.exit_reason or "The model engine is not running.")
            request_id = next(self._ids)
            replies: queue.Queue[Any] = queue.Queue()
            self._pending[request_id] = replies
            self._current_id = request_id
            try:
                self._send({"id": request_id, "op": operation, **payload})
                while True:
                    reply = replies.get()
                    if reply is _DEATH:
                        raise EngineCrashed(self.exit_reason or "The model engine stopped.")
                    event = reply.get("event")
                    if event == protocol.EVENT_TOKEN and on_token:
                        on_token(reply["text"])
                    elif event == protocol.EVENT_RESULT:
                        return reply["result"]
                    elif event == protocol.EVENT_ERROR:
                        raise from_dict(reply["error"])
            finally:
                self._current_id = None
                self._pending.pop(request_id, None)

    def cancel(self) -> None:
        """Ask the worker to stop the request in progress, keeping what it produced."""
        request_id = self._current_id
        if request_id is not None and self.alive:
            self._send({"op": protocol.OP_CANCEL, "id": request_id})

    def close(self, timeout: float = 5.0) -> None:
        self._closing = True
        proc = self._proc
        if proc is None:
            return
        if proc.stdin:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # EOF is the worker's signal to exit
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def _send(self, message: dict[str, Any]) -> None:
        assert self._writer is not None
        # On a broken pipe the reader thread notices the death and wakes every waiting call.
        with contextlib.suppress(ValueError, OSError):
            self._writer.send(message)

    def _read_replies(self, stream: IO[bytes]) -> None:
        for line in stream:
            try:
                message = protocol.decode(line)
            except ValueError:
                log.warning("engine sent a malformed line: %r", line[:200])
                continue
            if message.get("event") == protocol.EVENT_HELLO:
                self._hello.set()
                continue
            replies = self._pending.get(message.get("id", -1))
            if replies is not None:
                replies.put(message)
        self._handle_exit()

    def _handle_exit(self) -> None:
        assert self._proc is not None
        returncode = self._proc.wait()
        before, after = self._oom_kills_at_start, oom_kills()
        ran_out = None if before is None or after is None else after > before
        self.exit_reason = describe_exit(returncode, self._log_tail(), ran_out)
        self._hello.set()
        if self._closing:
            log.info("engine worker %s exited (%s)", self._proc.pid, returncode)
        else:
            log.error("engine worker %s died: %s", self._proc.pid, self.exit_reason)
            # The owner hears first, so a caller woken below already sees the new state
            # (restarting, or the error) rather than a stale "ready".
            if self._on_exit:
                self._on_exit(self.exit_reason)
        for replies in list(self._pending.values()):
            replies.put(_DEATH)

    def _log_tail(self) -> str:
        try:
            with open(self._log_file, "rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                handle.seek(max(self._log_start, end - _STDERR_TAIL_BYTES))
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
