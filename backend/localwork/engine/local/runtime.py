"""The loaded model: one engine worker, its context plan, and recovery when it dies."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from localwork.engine.base import EngineState, EngineStatus, Generation, LoadedModel
from localwork.engine.local import protocol
from localwork.engine.local.client import EngineClient
from localwork.engine.local.context_plan import plan_context
from localwork.engine.local.template import ChatTemplate
from localwork.errors import (
    EngineCrashed,
    EngineNotReady,
    LocalWorkError,
    ModelLoadFailed,
    ModelNotFound,
    from_dict,
)
from localwork.events import EventBus
from localwork.models.gguf import GgufInfo, read_gguf
from localwork.models.registry import ModelRegistry
from localwork.settings import SettingsStore

log = logging.getLogger(__name__)

ClientFactory = Callable[[Path, Callable[[str], None]], EngineClient]

# More crashes than this within the window means restarting will not help.
_CRASH_LIMIT = 3
_CRASH_WINDOW_SECONDS = 120.0


def _default_client(log_file: Path, on_exit: Callable[[str], None]) -> EngineClient:
    return EngineClient(log_file, on_exit=on_exit)


class ModelRuntime:
    def __init__(
        self,
        registry: ModelRegistry,
        settings: SettingsStore,
        events: EventBus,
        engine_log: Path,
        client_factory: ClientFactory = _default_client,
    ) -> None:
        self._registry = registry
        self._settings = settings
        self._events = events
        self._engine_log = engine_log
        self._client_factory = client_factory
        self._changed = threading.Condition()
        self._load_lock = threading.Lock()
        self._state: EngineState = "idle"
        self._error: dict[str, str] | None = None
        self._loaded: LoadedModel | None = None
        self._wanted: str | None = None
        self._wanted_label: str | None = None  # what the status line names while it loads
        self._unloaded = False  # unload() came after the last load(): nothing is wanted
        self._client: EngineClient | None = None
        self._crashes: deque[float] = deque(maxlen=_CRASH_LIMIT)
        self._last_stats: Generation | None = None
        self._gpu_offload = False  # whether this llama.cpp build can use a GPU

    # --- status -----------------------------------------------------------------------------
    def status(self) -> EngineStatus:
        with self._changed:
            return {
                "state": self._state,
                "model": self._loaded.to_dict() if self._loaded else None,
                "wanted": self._wanted,
                "wanted_label": self._wanted_label,
                "error": self._error,
                "last_stats": self._last_stats,
                "engine_pid": self._client.pid if self._client and self._client.alive else None,
                "gpu_offload": self._gpu_offload,
            }

    def _set_state(self, state: EngineState, error: LocalWorkError | None = None) -> None:
        with self._changed:
            self._state = state
            self._error = error.to_dict() if error else None
            self._changed.notify_all()
        self._events.publish("model_status", status=self.status())

    # --- loading ------------------------------------------------------------------------------
    def load(self, model_id: str | None) -> None:
        """Load a model in the background; progress arrives as ``model_status`` events."""
        with self._changed:
            self._crashes.clear()  # the user chose again: earlier crashes no longer count
        self._start_loading(model_id)

    def restart(self) -> None:
        """Load the chosen model again: the user's "Restart the model", e.g. after the crash
        guard stopped restarting it."""
        with self._changed:
            wanted = self._wanted
        self.load(wanted)

    def _start_loading(self, model_id: str | None) -> None:
        try:
            label = self._registry.find(model_id).to_dict()["label"]
        except ModelNotFound:
            label = model_id  # the load will say it is missing
        with self._changed:
            self._wanted = model_id
            self._wanted_label = label
            self._unloaded = False
            self._state = "loading"
            self._error = None
        threading.Thread(
            target=self._load, args=(model_id,), name="model-load", daemon=True
        ).start()

    def unload(self) -> None:
        """Free the model's memory: the user chose a model that runs elsewhere (a server)."""
        with self._changed:
            self._wanted = self._wanted_label = None
            self._unloaded = True
        with self._load_lock:  # a load in progress ends first, and sees it was superseded
            with self._changed:
                self._loaded = None
            self._stop_client()
        self._set_state("idle")

    def _stop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def load_and_wait(self, model_id: str | None, timeout: float = 300.0) -> LoadedModel:
        self.load(model_id)
        return self.ensure_ready(timeout)

    def _load(self, model_id: str | None) -> None:
        with self._load_lock:
            if self._unloaded or model_id != self._wanted:
                return  # a newer choice superseded this one
            self._set_state("loading")
            try:
                loaded = self._start_engine(model_id)
            except LocalWorkError as error:
                log.warning("loading %s failed: %s", model_id, error.message)
                with self._changed:
                    self._loaded = None
                self._set_state("error", error)
                return
            except Exception:
                log.exception("unexpected failure loading %s", model_id)
                with self._changed:
                    self._loaded = None
                self._set_state(
                    "error", LocalWorkError("Loading the model failed unexpectedly; see the log.")
                )
                return
            with self._changed:
                superseded = self._unloaded or model_id != self._wanted
                self._loaded = None if superseded else loaded
            if superseded:
                self._stop_client()
                return
            self._set_state("ready")

    def _start_engine(self, model_id: str | None) -> LoadedModel:
        model = self._registry.find(model_id)
        info = read_gguf(model.path)
        plan = plan_context(
            self._settings.current.profile_for(model.id).context, info, model.size_bytes
        )
        if self._client is not None:
            self._client.close()
        client = self._client_factory(self._engine_log, self._on_worker_exit)
        self._client = client
        try:
            client.start()
            worker = client.call(
                protocol.OP_LOAD, {"model_path": str(model.path), "params": plan.worker_params()}
            )
        except EngineCrashed as crash:
            raise ModelLoadFailed(
                f"Loading {model.name} failed: {crash.message}. The file may be damaged or too "
                "large for the free memory; try another model or a shorter context."
            ) from None
        template = self._template(model.id, info, worker["bos_token"], worker["eos_token"])
        log.info("loaded %s with %s, prompt format %s", model.id, plan, template.format_name)
        engine_context = {"n_ctx": worker["n_ctx"], "n_batch": worker["n_batch"]}
        with self._changed:
            self._gpu_offload = bool(worker["gpu_offload"])
        scoring = bool(worker.get("scoring"))
        return LoadedModel(model, info, plan, template, engine_context, can_score=scoring)

    def _template(self, model_id: str, info: GgufInfo, bos: str, eos: str) -> ChatTemplate:
        chosen = self._settings.current.prompt_formats.get(model_id)
        return ChatTemplate(info.chat_template, bos, eos, chosen or info.default_prompt_format)

    def use_prompt_format(self, model_id: str) -> None:
        """Apply a newly chosen prompt format to the loaded model; no reload is needed."""
        with self._changed:
            loaded = self._loaded
            if loaded is None or loaded.model.id != model_id:
                return
            old = loaded.template
            template = self._template(model_id, loaded.info, old.bos_token, old.eos_token)
            self._loaded = dataclasses.replace(loaded, template=template)
        self._events.publish("model_status", status=self.status())

    def ensure_ready(self, timeout: float = 300.0) -> LoadedModel:
        """Wait for a load in progress and return the model.

        Raises:
            EngineNotReady: nothing is loaded, or loading took longer than ``timeout``.
            LocalWorkError: the last load failed; its code and message are kept.
        """
        with self._changed:
            self._changed.wait_for(lambda: self._state != "loading", timeout)
            if self._state == "ready" and self._loaded:
                return self._loaded
            if self._state == "error" and self._error:
                raise from_dict(self._error)
            if self._state == "loading":
                raise EngineNotReady("The model is still loading; try again in a moment.")
            raise EngineNotReady("No model is loaded. Choose one in Settings.")

    # --- requests -------------------------------------------------------------------------------
    def _ready_client(self) -> EngineClient:
        self.ensure_ready()
        client = self._client
        if client is None:
            raise EngineNotReady("The model engine is not running.")
        return client

    def count_tokens(self, text: str) -> int:
        return int(self._ready_client().call(protocol.OP_COUNT, {"text": text})["tokens"])

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
        """Write a reply. ``grammar`` ({"schema", "property_order"} or {"gbnf"}) constrains
        it, only its first ``grammar_tokens`` tokens when that is given; generation ends at
        the first ``stop`` string, which is not shown.

        Free text (no grammar, or one only for how it starts) also ends at the prompt
        format's end markers (the model's end-of-generation tokens always end it);
        ``stop_text`` names only a matched ``stop`` of the caller's."""
        client = self._ready_client()
        request: dict[str, Any] = {"prompt": prompt, "max_tokens": max_tokens, "sampling": sampling}
        stops = list(stop or [])
        if grammar is not None:
            request["grammar"] = grammar
        if grammar_tokens is not None:
            request["grammar_tokens"] = grammar_tokens
        if (grammar is None or grammar_tokens is not None) and self._loaded is not None:
            stops += [marker for marker in self._loaded.template.stops if marker not in stops]
        if stops:
            request["stop"] = stops
        reply = client.call(protocol.OP_GENERATE, request, on_token=on_token)
        if reply.get("stop_text") not in (stop or []):
            reply = {**reply, "stop_text": None}
        result = cast(Generation, reply)  # the worker's stats (``worker._generation_stats``)
        with self._changed:
            self._last_stats = result
        return result

    def score(self, prompt: str, continuations: list[str]) -> list[float | None]:
        """The log-likelihood of each continuation after ``prompt``; None for those not
        scored because the request was cancelled."""
        request = {"prompt": prompt, "continuations": continuations}
        return list(self._ready_client().call(protocol.OP_SCORE, request)["scores"])

    def cancel(self) -> None:
        if self._client is not None:
            self._client.cancel()

    def close(self) -> None:
        with self._changed:
            self._wanted = None
        if self._client is not None:
            self._client.close()

    # --- crash recovery ------------------------------------------------------------------------
    def _on_worker_exit(self, reason: str) -> None:
        """The worker died on its own (called from its reader thread)."""
        minutes = round(_CRASH_WINDOW_SECONDS / 60)
        stopped = LocalWorkError(
            f"{reason}. It crashed {_CRASH_LIMIT} times in a row within {minutes} minutes, so "
            "it was not restarted."
        )
        with self._changed:
            was_ready = self._state == "ready"
            self._loaded = None
            now = time.monotonic()
            self._crashes.append(now)
            crash_loop = (
                len(self._crashes) == _CRASH_LIMIT
                and now - self._crashes[0] < _CRASH_WINDOW_SECONDS
            )
            if was_ready:  # at once: whoever the crash wakes sees what comes next, not "ready"
                self._state = "error" if crash_loop else "loading"
                self._error = stopped.to_dict() if crash_loop else None
        # The page says "restarting" only when it is true: not after the crash guard tripped.
        self._events.publish(
            "engine_crashed", message=reason, restarting=was_ready and not crash_loop
        )
        if not was_ready:
            return  # a crash while loading is reported by the load itself
        if crash_loop:
            self._set_state("error", stopped)
            return
        log.info("restarting the engine with %s", self._wanted)
        self._start_loading(self._wanted)
