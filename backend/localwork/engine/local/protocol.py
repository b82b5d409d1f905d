"""The wire format between the UI process and the engine worker: one JSON object per line.

Requests  (UI → worker):  {"id": n, "op": "load" | "count" | "generate" | "score", ...}
                          {"op": "cancel", "id": n}      handled at once, out of band
Replies   (worker → UI):  {"event": "hello", "pid": ...}  once, when the worker is up
                          {"id": n, "event": "token", "text": "..."}
                          {"id": n, "event": "result", "result": {...}}
                          {"id": n, "event": "error", "error": {"code", "message"}}
"""

from __future__ import annotations

import json
import threading
from typing import IO, Any

OP_LOAD = "load"
OP_COUNT = "count"
OP_GENERATE = "generate"
OP_SCORE = "score"  # log-likelihood of continuations after a prompt
OP_CANCEL = "cancel"

EVENT_HELLO = "hello"
EVENT_TOKEN = "token"
EVENT_RESULT = "result"
EVENT_ERROR = "error"


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def decode(line: bytes) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("protocol message is not an object")
    return message


class LineWriter:
    """Writes whole messages from several threads without interleaving them."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._stream.write(encode(message))
            self._stream.flush()
