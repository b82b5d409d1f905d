"""An engine inside the test process: scripted replies, no worker process, no model weights.

``FakeEngine`` implements ``localwork.engine.base.TextEngine`` as its contract says, so the chat
layer (the agent loop, guided calls, the reply queue) runs on it deterministically and fast.
It also answers what the app asks of its engine besides (``load``, ``load_and_wait``,
``restart``, ``use_prompt_format``, ``close``), so a whole ``App`` can run on it: build the
app while ``localwork.app.ModelRuntime`` is ``FakeEngine.factory(...)``. What only a real
process shows (a crash, the crash guard, the pipe protocol) is tested with the scripted
worker (``scripted_engine.py``) instead.

- Replies: the n-th ``generate`` gets the n-th reply, as from the scripted worker:
  ``{"text": "...", "delay": seconds_between_pieces}`` streams the text in ``PIECE_CHARS``
  pieces through ``on_token``; ``{"error": {"code": ..., "message": ...}}`` fails that request
  with that coded error (``localwork.errors.from_dict``). A request with no reply left fails
  with ``generation_failed``. ``add_replies`` adds more while the app runs.
- Requests: each ``generate`` is recorded in ``requests`` as the worker would receive it
  (``prompt``, ``grammar``, ``grammar_tokens``, ``stop``, ``max_tokens``, through JSON), each
  ``score`` in ``scored``.
- Tokens: one per ``CHARS_PER_TOKEN`` characters, plus one, like the scripted worker.
- Scores: ``scorer(prompt, continuation)`` rates each continuation; with one the loaded model
  ``can_score``, so guided calls choose the tool by rating the request.
- The model: the registry's, planned from the settings like the real runtime does, with a
  ChatML-like end-of-sequence text; it "loads" at once, in the calling thread.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localwork.engine.base import EngineState, EngineStatus, Generation, LoadedModel, StopReason
from localwork.engine.local.context_plan import plan_context
from localwork.engine.local.template import ChatTemplate
from localwork.engine.local.worker import StopMatcher
from localwork.errors import (
    ContextOverflow,
    EngineNotReady,
    GenerationFailed,
    InvalidRequest,
    LocalWorkError,
    ModelNotFound,
    from_dict,
)
from localwork.events import EventBus
from localwork.models.gguf import GgufInfo, read_gguf
from localwork.models.registry import ModelRegistry
from localwork.settings import SettingsStore

PIECE_CHARS = 4  # the text streams in pieces this long, like tokens
CHARS_PER_TOKEN = 4
EOS_TOKEN = "<|im_end|>"  # what the scripted worker reports as the model's end-of-sequence

Scorer = Callable[[str, str], float]


def count_tokens(text: str) -> int:
    """The fake's tokenizer: one token per CHARS_PER_TOKEN characters, plus one."""
    return len(text) // CHARS_PER_TOKEN + 1


class FakeEngine:
    """An ``TextEngine`` in this process; see the module's note."""

    def __init__(
        self,
        registry: ModelRegistry,
        settings: SettingsStore,
        events: EventBus,
        engine_log: Path | None = None,  # unused: ``ModelRuntime``'s arguments, for ``factory``
        *,
        replies: list[dict[str, Any]] | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self._registry = registry
        self._settings = settings
        self._events = events
        self._scorer = scorer
        self._replies: list[dict[str, Any]] = list(replies or [])
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._state: EngineState = "idle"
        self._error: dict[str, str] | None = None
        self._loaded: LoadedModel | None = None
        self._wanted: str | None = None
        self._wanted_label: str | None = None
        self._last_stats: Generation | None = None
        self.requests: list[dict[str, Any]] = []
        self.scored: list[tuple[str, list[str]]] = []

    @classmethod
    def factory(cls, **options: Any) -> Callable[..., FakeEngine]:
        """A stand-in for the ``ModelRuntime`` class: what ``App`` builds its engine with."""
        return functools.partial(cls, **options)

    def add_replies(self, replies: list[dict[str, Any]]) -> None:
        with self._lock:
            self._replies.extend(replies)

    # --- the TextEngine protocol ------------------------------------------------------------------
    def status(self) -> EngineStatus:
        with self._lock:
            return {
                "state": self._state,
                "model": self._loaded.to_dict() if self._loaded else None,
                "wanted": self._wanted,
                "wanted_label": self._wanted_label,
                "error": self._error,
                "last_stats": self._last_stats,
                "engine_pid": None,
                "gpu_offload": False,
            }

    def ensure_ready(self, timeout: float = 300.0) -> LoadedModel:
        with self._lock:
            if self._state == "ready" and self._loaded:
                return self._loaded
            if self._state == "error" and self._error:
                raise from_dict(self._error)
        raise EngineNotReady("No model is loaded. Choose one in Settings.")

    def count_tokens(self, text: str) -> int:
        self.ensure_ready()
        return count_tokens(text)

    def generate(
        self,
        prompt: str,
        max_tokens: int,
        sampling: dict[str, Any],
        on_token: Callable[[str], None],
        *,
        grammar: dict[str, Any] | None = None,
        grammar_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Generation:
        loaded = self.ensure_ready()
        self._cancel.clear()
        stops = list(stop or [])
        if grammar is None or grammar_tokens is not None:  # free text ends at the end markers
            stops += [marker for marker in loaded.template.stops if marker not in stops]
        record = {
            "prompt": prompt,
            "grammar": grammar,
            "grammar_tokens": grammar_tokens,
            "stop": stops or None,
            "max_tokens": max_tokens,
        }
        with self._lock:
            number = len(self.requests)
            self.requests.append(json.loads(json.dumps(record)))  # as it would cross the pipe
            reply = self._replies[number] if number < len(self._replies) else None
        prompt_tokens = count_tokens(prompt)
        if not prompt:
            raise InvalidRequest("the prompt is empty")
        if max_tokens < 1 or prompt_tokens + max_tokens > loaded.plan.n_ctx:
            raise ContextOverflow(
                f"The prompt is {prompt_tokens} tokens and the reply needs room for {max_tokens}, "
                f"but the context holds {loaded.plan.n_ctx}."
            )
        if reply is None:
            raise GenerationFailed(f"the fake engine has no reply number {number + 1}")
        if "error" in reply:
            raise from_dict(reply["error"])
        result = self._stream(reply, max_tokens, StopMatcher(stops), on_token)
        result["prompt_tokens"] = prompt_tokens
        if result["stop_text"] not in (stop or []):
            result["stop_text"] = None
        with self._lock:
            self._last_stats = result
        return result

    def score(self, prompt: str, continuations: list[str]) -> list[float | None]:
        loaded = self.ensure_ready()
        if not loaded.can_score or self._scorer is None:
            raise InvalidRequest("this fake engine was not given a scorer")
        self._cancel.clear()
        with self._lock:
            self.scored.append((prompt, list(continuations)))
        return [
            None if self._cancel.is_set() else self._scorer(prompt, continuation)
            for continuation in continuations
        ]

    def cancel(self) -> None:
        self._cancel.set()

    # --- what the app asks of its engine besides ----------------------------------------------
    def load(self, model_id: str | None) -> None:
        try:
            label = self._registry.find(model_id).to_dict()["label"]
        except ModelNotFound:
            label = model_id
        with self._lock:
            self._wanted, self._wanted_label = model_id, label
        self._set_state("loading")
        try:
            loaded = self._load(model_id)
        except LocalWorkError as error:
            with self._lock:
                self._loaded = None
            self._set_state("error", error)
            return
        with self._lock:
            self._loaded = loaded
        self._set_state("ready")

    def unload(self) -> None:
        with self._lock:
            self._loaded, self._wanted, self._wanted_label = None, None, None
        self._set_state("idle")

    def load_and_wait(self, model_id: str | None, timeout: float = 300.0) -> LoadedModel:
        self.load(model_id)
        return self.ensure_ready(timeout)

    def restart(self) -> None:
        self.load(self._wanted)

    def use_prompt_format(self, model_id: str) -> None:
        with self._lock:
            loaded = self._loaded
            if loaded is None or loaded.model.id != model_id:
                return
            template = self._template(model_id, loaded.info)
            self._loaded = dataclasses.replace(loaded, template=template)
        self._events.publish("model_status", status=self.status())

    def close(self) -> None:
        self.cancel()
        with self._lock:
            self._wanted = None

    # --- inside ----------------------------------------------------------------------------
    def _load(self, model_id: str | None) -> LoadedModel:
        model = self._registry.find(model_id)
        info = read_gguf(model.path)
        context = self._settings.current.profile_for(model.id).context
        plan = plan_context(context, info, model.size_bytes)
        built = {"n_ctx": plan.n_ctx, "n_batch": plan.n_batch}
        template = self._template(model.id, info)
        return LoadedModel(model, info, plan, template, built, can_score=self._scorer is not None)

    def _template(self, model_id: str, info: GgufInfo) -> ChatTemplate:
        chosen = self._settings.current.prompt_formats.get(model_id)
        return ChatTemplate(info.chat_template, "", EOS_TOKEN, chosen or info.default_prompt_format)

    def _set_state(self, state: EngineState, error: LocalWorkError | None = None) -> None:
        with self._lock:
            self._state = state
            self._error = error.to_dict() if error else None
        self._events.publish("model_status", status=self.status())

    def _stream(
        self,
        reply: dict[str, Any],
        max_tokens: int,
        stops: StopMatcher,
        on_token: Callable[[str], None],
    ) -> Generation:
        """Send the reply's text in pieces until it ends, a stop string or the token limit
        ends it, or it is cancelled."""
        text, delay = reply["text"], float(reply.get("delay", 0))
        stop_reason: StopReason = "eos"
        pieces, started = 0, time.perf_counter()
        for start in range(0, len(text), PIECE_CHARS):
            if self._cancel.is_set():
                stop_reason = "cancelled"
                break
            if pieces >= max_tokens:
                stop_reason = "length"
                break
            pieces += 1
            if shown := stops.feed(text[start : start + PIECE_CHARS]):
                on_token(shown)
            if stops.matched is not None:
                stop_reason = "stop"
                break
            self._cancel.wait(delay)
        if stops.matched is None and (held := stops.flush()):
            on_token(held)
        seconds = time.perf_counter() - started
        return {
            "stop_reason": stop_reason,
            "stop_text": stops.matched,
            "prompt_tokens": 0,
            "prompt_tokens_reused": 0,
            "completion_tokens": pieces,
            "time_to_first_token_ms": 0.0,
            "generation_seconds": round(seconds, 4),
            "tokens_per_second": round(pieces / seconds, 2) if seconds and pieces else None,
        }
