"""Why the engine worker stopped, in words a user can act on, from what the system shows.

A SIGKILL is not blamed on memory unless the kernel counted an out-of-memory kill or the
engine log says an allocation failed: a worker killed by another program, with memory free,
is described as that. When nothing names a cause, the message says what the log shows.
"""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path

# What a dying llama.cpp leaves in its log, in the words a user can act on.
_LOG_HINTS = (
    ("GGML_ASSERT", "llama.cpp hit an internal check (GGML_ASSERT)"),
    ("failed to allocate", "it could not allocate memory"),
    ("out of memory", "it ran out of memory"),
)
_MEMORY_HINTS = ("failed to allocate", "out of memory")
# Where Linux counts out-of-memory kills: the whole system, and the cgroup (v2, then v1).
_OOM_COUNTERS = (
    Path("/proc/vmstat"),
    Path("/sys/fs/cgroup/memory.events"),
    Path("/sys/fs/cgroup/memory/memory.oom_control"),
)
_ERROR_WORDS = ("error", "assert", "abort", "fatal", "exception", "failed", "terminate")
_QUOTE_CHARS = 160


def oom_kills() -> int | None:
    """How many out-of-memory kills the kernel has counted; None where it does not say."""
    total, known = 0, False
    for counter in _OOM_COUNTERS:
        with contextlib.suppress(OSError, ValueError):
            for line in counter.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    total, known = total + int(value), True
    return total if known else None


def _last_error_line(log_tail: str) -> str | None:
    for line in reversed(log_tail.splitlines()):
        if any(word in line.lower() for word in _ERROR_WORDS):
            line = line.strip()
            return line if len(line) <= _QUOTE_CHARS else line[: _QUOTE_CHARS - 1] + "…"
    return None


def describe_exit(
    returncode: int | None, log_tail: str = "", memory_ran_out: bool | None = None
) -> str:
    """Say in plain words why the worker stopped.

    ``log_tail`` is what the engine logged since it started; ``memory_ran_out`` whether the
    kernel counted an out-of-memory kill meanwhile (None: unknown).
    """
    lowered = log_tail.lower()
    hints = [hint for marker, hint in _LOG_HINTS if marker.lower() in lowered]
    memory = memory_ran_out or any(marker in lowered for marker in _MEMORY_HINTS)
    if returncode is not None and returncode < 0:
        number = -returncode
        if number == signal.SIGSEGV:
            what = "crashed (segmentation fault)"
        elif number == signal.SIGABRT:
            what = "aborted"
        elif number == getattr(signal, "SIGKILL", 9):
            if memory:
                what, hints = "was killed because the computer ran out of memory", []
            elif memory_ran_out is False:
                what = "was killed (SIGKILL) by another program; memory did not run out"
            else:
                what = "was killed (SIGKILL), by another program or because memory ran out"
        else:
            what = f"was stopped by signal {signal.Signals(number).name}"
    else:
        what = f"stopped unexpectedly (exit code {returncode})"
    if hints:
        return f"The model engine {what}; {hints[0]}"
    line = _last_error_line(log_tail)
    shown = f'the engine log ends with "{line}"' if line else "the engine log shows no error"
    return f"The model engine {what}; {shown}"
