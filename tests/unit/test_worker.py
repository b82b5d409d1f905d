"""The engine worker serves the protocol with any backend (``worker.Backend``): results,
streamed text and coded errors, in this process."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

from localwork.engine.local import protocol
from localwork.engine.local.worker import Backend, LlamaBackend, Worker
from localwork.errors import ContextOverflow
from tests.support.protocols import mismatched_methods
from tests.support.scripted_engine import ScriptedBackend


class EchoBackend:
    """Writes the prompt back in two pieces; refuses long prompts."""

    def __init__(self, cancelled: threading.Event) -> None:
        self.cancelled = cancelled

    def load(self, model_path: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"n_ctx": params["n_ctx"], "model_path": model_path}

    def tokenize(self, text: str) -> list[int]:
        return list(range(len(text.split())))

    def generate(self, message: dict[str, Any], send_text) -> dict[str, Any]:
        if len(message["prompt"]) > 20:
            raise ContextOverflow("too long")
        half = len(message["prompt"]) // 2
        send_text(message["prompt"][:half])
        send_text(message["prompt"][half:])
        return {"stop_reason": "eos", "stop_text": None}

    def score(self, prompt: str, continuations: list[str]) -> list[float | None]:
        raise RuntimeError("no scores here")


def serve(*messages: dict[str, Any]) -> list[dict[str, Any]]:
    sent = io.BytesIO()
    worker = Worker(protocol.LineWriter(sent), EchoBackend)
    for message in messages:
        worker.handle(message)
    return [json.loads(line) for line in sent.getvalue().splitlines()]


def test_the_worker_answers_each_request_with_its_backend():
    replies = serve(
        {"id": 1, "op": "load", "model_path": "m.gguf", "params": {"n_ctx": 512}},
        {"id": 2, "op": "count", "text": "three words here"},
        {"id": 3, "op": "generate", "prompt": "Hello!"},
    )
    assert replies == [
        {"id": 1, "event": "result", "result": {"n_ctx": 512, "model_path": "m.gguf"}},
        {"id": 2, "event": "result", "result": {"tokens": 3}},
        {"id": 3, "event": "token", "text": "Hel"},
        {"id": 3, "event": "token", "text": "lo!"},
        {"id": 3, "event": "result", "result": {"stop_reason": "eos", "stop_text": None}},
    ]


def test_a_backends_failure_is_a_coded_error_reply_and_the_worker_lives_on():
    overflow, failed, unknown = serve(
        {"id": 1, "op": "generate", "prompt": "x" * 40},
        {"id": 2, "op": "score", "prompt": "p", "continuations": ["a"]},
        {"id": 3, "op": "dance"},
    )
    assert overflow["error"] == {"code": "context_overflow", "message": "too long"}
    assert (
        failed["error"]["code"] == "generation_failed" and "no scores" in failed["error"]["message"]
    )
    assert unknown["error"]["code"] == "invalid_request"


def test_the_backends_keep_the_seam():
    assert mismatched_methods(LlamaBackend, Backend) == []
    assert mismatched_methods(ScriptedBackend, Backend) == []


class _SwitchLog:
    """Stands in for ``AbortPoll``: notes each switch."""

    def __init__(self) -> None:
        self.switches: list[bool] = []

    def switch(self, on: bool) -> None:
        self.switches.append(on)


class _ClockedModel:
    """A model whose decodes take the given seconds on a fake clock."""

    def __init__(self, clock: list[float], seconds: list[float]) -> None:
        self.clock, self.seconds = clock, seconds

    def eval(self, tokens: list[int]) -> None:
        self.clock[0] += self.seconds.pop(0)


def test_the_abort_callback_is_on_only_while_generated_tokens_decode_slowly(monkeypatch):
    from localwork.engine.local import worker

    clock = [0.0]
    monkeypatch.setattr(worker.time, "perf_counter", lambda: clock[0])
    backend = LlamaBackend(threading.Event())
    backend._llm = _ClockedModel(clock, [0.01, 0.25, 0.03, 0.06])
    backend._abort_poll = poll = _SwitchLog()  # type: ignore[assignment]
    for token in range(4):
        backend._decode([token])
    # A quick token: Stop is seen before the next one. A slow one: Stop must interrupt it.
    assert poll.switches == [False, True, False, True]
