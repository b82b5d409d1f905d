"""A scripted engine worker: the real worker and its protocol, with a backend that reads
replies from a file instead of running a model.

For deterministic tests of the agent loop and the UI (the real model is tested elsewhere).
Run as ``python scripted_engine.py SCRIPT``; SCRIPT is a JSON list of replies, each
``{"text": "...", "delay": seconds_between_pieces}``, or ``{"crash": "SIGSEGV"}`` to die by
that signal. The n-th generate request gets the n-th reply, read afresh each time (a test may
append replies while the app runs). Every request is logged to ``SCRIPT.requests.jsonl`` so
tests can check what the loop asked for. ``LOAD_DELAY_VARIABLE`` makes each load take longer.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localwork.engine.local.client import ENGINE_COMMAND_VARIABLE
from localwork.engine.local.worker import StopMatcher, serve
from localwork.errors import GenerationFailed, InvalidRequest

PIECE_CHARS = 4  # the scripted text streams in pieces this long, like tokens
LOAD_DELAY_VARIABLE = "LOCALWORK_SCRIPTED_LOAD_SECONDS"


def use_scripted_engine(script: Path, replies: list[dict[str, Any]]) -> dict[str, str]:
    """Write the script; returns the environment that makes an app run this engine."""
    script.write_text(json.dumps(replies))
    command = [sys.executable, str(Path(__file__).resolve()), str(script)]
    return {ENGINE_COMMAND_VARIABLE: json.dumps(command)}


def add_replies(script: Path, replies: list[dict[str, Any]]) -> None:
    script.write_text(json.dumps([*json.loads(script.read_text()), *replies]))


def requests_log(script: Path) -> Path:
    return script.with_name(script.name + ".requests.jsonl")


def logged_requests(script: Path) -> list[dict[str, Any]]:
    log = requests_log(script)
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


class ScriptedBackend:
    """A ``worker.Backend`` whose loading, counting and writing are read from the script."""

    def __init__(self, script: Path, cancelled: threading.Event) -> None:
        self._script = script
        self._cancel = cancelled

    def load(self, model_path: str, params: dict[str, Any]) -> dict[str, Any]:
        time.sleep(float(os.environ.get(LOAD_DELAY_VARIABLE, "0")))
        return {
            "n_ctx": int(params["n_ctx"]),
            "n_batch": int(params["n_batch"]),
            "bos_token": "",
            "eos_token": "<|im_end|>",
            "gpu_offload": False,
        }

    def tokenize(self, text: str) -> list[int]:
        return [0] * (len(text) // 4 + 1)

    def generate(self, message: dict[str, Any], send_text: Callable[[str], None]) -> dict[str, Any]:
        replies = json.loads(self._script.read_text())
        log = requests_log(self._script)
        done = len(log.read_text().splitlines()) if log.exists() else 0
        with open(log, "a") as handle:
            record = {
                key: message.get(key)
                for key in ("prompt", "grammar", "grammar_tokens", "stop", "max_tokens")
            }
            handle.write(json.dumps(record) + "\n")
        if done >= len(replies):
            raise GenerationFailed(f"the scripted engine has no reply number {done + 1}")
        reply = replies[done]
        if "crash" in reply:
            os.kill(os.getpid(), getattr(signal, reply["crash"]))
        text, delay = reply["text"], float(reply.get("delay", 0))
        stops = StopMatcher(message.get("stop") or [])
        stop_reason, pieces, started = "eos", 0, time.perf_counter()
        for start in range(0, len(text), PIECE_CHARS):
            if self._cancel.is_set():
                stop_reason = "cancelled"
                break
            if pieces >= int(message["max_tokens"]):
                stop_reason = "length"
                break
            pieces += 1
            _send(send_text, stops.feed(text[start : start + PIECE_CHARS]))
            if stops.matched is not None:
                stop_reason = "stop"
                break
            time.sleep(delay)
        if stops.matched is None:
            _send(send_text, stops.flush())
        seconds = time.perf_counter() - started
        return {
            "stop_reason": stop_reason,
            "stop_text": stops.matched,
            "prompt_tokens": len(self.tokenize(message["prompt"])),
            "prompt_tokens_reused": 0,
            "completion_tokens": pieces,
            "time_to_first_token_ms": 0.0,
            "generation_seconds": round(seconds, 4),
            "tokens_per_second": round(pieces / seconds, 2) if seconds and pieces else None,
        }

    def score(self, prompt: str, continuations: list[str]) -> list[float | None]:
        raise InvalidRequest("the scripted engine does not score continuations")


def _send(send_text: Callable[[str], None], text: str) -> None:
    if text:
        send_text(text)


def main() -> int:
    script = Path(sys.argv[1])
    return serve(lambda cancelled: ScriptedBackend(script, cancelled))


if __name__ == "__main__":
    raise SystemExit(main())
