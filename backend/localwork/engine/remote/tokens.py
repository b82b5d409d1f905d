"""Counting tokens with the server's own tokenizer, where it has one.

The OpenAI API has no way to count a prompt's tokens, but the servers people run locally do,
each its own way, beside the API rather than under ``/v1``:

- llama.cpp's ``llama-server``: ``POST /tokenize`` ``{"content": text}`` → ``{"tokens": [...]}``;
- vLLM: ``POST /tokenize`` ``{"model", "prompt"}`` → ``{"count": n, ...}``;
- llama-cpp-python's server: ``POST /extras/tokenize/count`` ``{"input", "model"}`` →
  ``{"count": n}``.

The first way that answers is remembered; a server that has none (Ollama, hosted APIs) is
asked once, and its prompts are estimated from their length instead (``engine.py``).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx2

from localwork.engine.remote.connection import RemoteServer, Timeouts

_TIMEOUTS = Timeouts(connect=3.0, read=10.0, write=5.0)
_ANSWER_LIMIT = 16 * 1024 * 1024  # a token list of a long prompt, never more


class ServerTokenCounter:
    def __init__(self, server: RemoteServer, model: str) -> None:
        self._server = RemoteServer(server.base_url, server.api_key, _TIMEOUTS)
        self._model = model
        self._root = server.base_url.removesuffix("/v1")
        self._lock = threading.Lock()
        self._way: str | None = None  # the path that answered
        self._tried = False

    @property
    def available(self) -> bool | None:
        """True: the server counts; False: it cannot; None: not asked yet."""
        return None if not self._tried else self._way is not None

    def count(self, text: str) -> int | None:
        """The tokens of ``text`` by the server's tokenizer; None when it has none (or it
        failed this time: the caller estimates)."""
        with self._lock:
            if self._tried and self._way is None:
                return None
            ways = [self._way] if self._way else ["/tokenize", "/extras/tokenize/count"]
        for way in ways:
            counted = self._ask(way, text)
            if counted is not None:
                with self._lock:
                    self._way, self._tried = way, True
                return counted
        with self._lock:
            if self._way is None:
                self._tried = True
        return None

    def _ask(self, path: str, text: str) -> int | None:
        # One body for every dialect: each server reads its own field and leaves the others.
        body = {"content": text, "prompt": text, "input": text, "model": self._model}
        try:
            with self._server.open_client() as client:
                response = client.post(self._root + path, json=body)
        except httpx2.HTTPError:
            return None
        if not response.is_success or len(response.content) > _ANSWER_LIMIT:
            return None
        try:
            answer: Any = json.loads(response.content)
        except ValueError:
            return None
        if isinstance(answer, dict):
            if isinstance(answer.get("count"), int):
                return int(answer["count"])
            if isinstance(answer.get("tokens"), list):
                return len(answer["tokens"])
        return None
