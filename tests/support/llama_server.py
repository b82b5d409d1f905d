"""llama-cpp-python's own OpenAI-compatible server, the real third-party server the remote
client's tests run against.

``bash build/setup.sh test`` installs ``llama-cpp-python[server]`` (the app's pin) into
``.cache/test-servers/llama-venv``, never the app's virtualenv: it is the server as a user
would install it, with its own FastAPI, uvicorn and sse-starlette. ``LlamaServer`` runs
``python -m llama_cpp.server`` from there on a free 127.0.0.1 port, serving the bundled
SmolLM2-135M GGUF, and gives out its base URL once ``GET /v1/models`` answers.

Its own settings (``llama_cpp/server/settings.py``), which the tests rely on:

- ``chat_format`` unset: the GGUF's own chat template (``tokenizer.chat_template``), through
  the Jinja2 handler. That handler also does a *named* ``tool_choice``: the function's JSON
  schema becomes a grammar, and the reply streams as that one tool call. ``"auto"`` tool
  calling needs ``--chat_format chatml-function-calling``, which the tests do not use.
- ``model_alias`` unset: the model's id is the ``--model`` path, and a request naming any
  other model is answered by that one.
- ``interrupt_requests`` true: a new request ends the one streaming (with ``[DONE]``), so the
  tests send one request at a time.
- one thread (``--n_threads 1 --n_threads_batch 1``), not one a core: llama.cpp's threads
  wait for each other spinning, and on two cores shared with another busy process a
  24-token reply took 25 to 45 s with two threads, 0.3 s with one.
- ``verbose`` true: it logs to stderr, which goes to a file (a pipe nobody reads would fill
  and stall it); the tail is in the error when it fails to start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[2]
LLAMA_VENV = REPO_ROOT / ".cache" / "test-servers" / "llama-venv"
LLAMA_PYTHON = LLAMA_VENV / "bin" / "python"
SETUP_COMMAND = "bash build/setup.sh test tests/remote_real"
N_CTX = 2048
THREADS = 1
START_SECONDS = 60.0
STOP_SECONDS = 5.0
_STDERR_TAIL = 4000
_PORT_TRIES = 3


class LlamaServerError(RuntimeError):
    """The server did not start: its exit or the timeout, and the end of its stderr."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """One ``llama_cpp.server`` process serving ``model``; a context manager that starts
    and stops it. ``extra_args`` go on its command line (``--chat_format ...``)."""

    def __init__(
        self,
        model: Path,
        *,
        python: Path = LLAMA_PYTHON,
        n_ctx: int = N_CTX,
        threads: int = THREADS,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.python = python
        self.n_ctx = n_ctx
        self.threads = threads
        self.extra_args = tuple(extra_args)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, as a user types it into the app."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_id(self) -> str:
        """The id its model list gives: the ``--model`` path, as no alias is set."""
        return str(self.model)

    def __enter__(self) -> LlamaServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def command(self) -> list[str]:
        return [
            str(self.python),
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            *self.extra_args,
        ]

    def start(self, timeout: float = START_SECONDS) -> None:
        """Start it and wait until its model list answers.

        Raises:
            LlamaServerError: it exited, or did not answer within ``timeout``; the message
                has the end of its stderr.
        """
        deadline = time.monotonic() + timeout
        for _ in range(_PORT_TRIES):
            if self._launch(deadline, timeout):
                return
            # The free port was taken before uvicorn bound it: another one.
        raise LlamaServerError(f"llama_cpp.server found its port taken {_PORT_TRIES} times.")

    def _launch(self, deadline: float, timeout: float) -> bool:
        """One start on a fresh port: True once it answers, False if the port was taken."""
        self.port = free_port()
        # Open for the server's lifetime; stop() closes it.
        self._stderr = tempfile.TemporaryFile(prefix="llama-server-")  # noqa: SIM115
        # A session of its own: stop() signals the whole group, so nothing is left behind.
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            start_new_session=True,
        )
        while not self._answers():
            if self._process.poll() is not None:
                taken = "address already in use" in self.stderr_tail().lower()
                problem = self._failure(f"exited with status {self._process.returncode}")
                self.stop()
                if taken:
                    return False
                raise LlamaServerError(problem)
            if time.monotonic() > deadline:
                problem = self._failure(f"did not answer GET /v1/models within {timeout:g} s")
                self.stop()
                raise LlamaServerError(problem)
            time.sleep(0.2)
        return True

    def stop(self) -> None:
        """Terminate its process group, then kill it if it lingers; idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # uvicorn waits for open streams on SIGTERM; a kill ends what is left.
            self._signal_group(process, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._signal_group(process, signal.SIGKILL)
                process.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stderr_tail(self) -> str:
        """The end of what it wrote (stdout and stderr), for an error message."""
        if self._stderr is None:
            return ""
        self._stderr.flush()
        size = self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, size - _STDERR_TAIL))
        return self._stderr.read().decode("utf-8", "replace")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=1.0) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _failure(self, problem: str) -> str:
        return (
            f"llama_cpp.server {problem}: {' '.join(self.command())}\n"
            f"--- the end of its output ---\n{self.stderr_tail()}"
        )

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], which: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, which)
