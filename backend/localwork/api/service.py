"""What the local API asks of the app: the models it can name, and one request's turn on the
engine the window shares (``engine/gate.py``), with the status line told while it lasts.

A request names a model, or none (the user's selection; ``DEFAULT_ALIASES`` mean it too). An
installed model other than the one loaded is loaded for it, with the fit check of the Models
pane, and the status line shows it loading; the chat's next reply loads the user's own again
(``engine/choice.py``). A server's model needs no load. Nothing a request says is stored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psutil

from localwork.api.log import LogRow, RequestLog
from localwork.engine.base import ChatEngine, TextEngine
from localwork.engine.choice import SelectedEngine, remote_model
from localwork.engine.gate import EngineTurns
from localwork.engine.local.runtime import ModelRuntime
from localwork.engine.local.turns import PromptTextTurns
from localwork.engine.remote.engine import RemoteEngine, RemoteModel
from localwork.errors import InvalidRequest, ModelLoading, ModelNotFound
from localwork.events import EventBus
from localwork.library.fit import describe_model
from localwork.models.registry import ModelRegistry
from localwork.settings import SettingsStore

log = logging.getLogger(__name__)

# Names that mean "the model the user chose": what a client sends when it must name one.
DEFAULT_ALIASES = frozenset({"default", "localwork-hero", "current"})
MAX_WAITING = 16  # API requests that may wait for the engine; more get 429
LOAD_TIMEOUT = 300.0
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """The model a request runs on."""

    id: str  # as /v1/models lists it: "bundled/…", "local/…", or "SERVER/MODEL"
    remote: RemoteModel | None = None  # None: an installed model


@dataclass
class Job:
    """One API request on the engine: cancel it from any thread (its client left)."""

    target: Target
    cancelled: threading.Event = field(default_factory=threading.Event)
    _engine: ChatEngine | TextEngine | None = None  # while it holds the engine
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def cancel(self) -> None:
        """Stop it now: a wait ends, a generation in progress is cancelled on the engine."""
        self.cancelled.set()
        with self._lock:
            engine = self._engine
        if engine is not None:
            engine.cancel()

    @contextmanager
    def _holding(self, engine: ChatEngine | TextEngine) -> Iterator[None]:
        with self._lock:
            self._engine = engine
        try:
            if self.cancelled.is_set():  # it left while the model was loading
                engine.cancel()
            yield
        finally:
            with self._lock:
                self._engine = None


class ApiService:
    def __init__(
        self,
        settings: SettingsStore,
        registry: ModelRegistry,
        runtime: ModelRuntime,
        selected: SelectedEngine,
        turns: EngineTurns,
        events: EventBus,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._runtime = runtime
        self._selected = selected
        self._turns = turns
        self._events = events
        self._local = PromptTextTurns(runtime)
        self.log = RequestLog()
        self._lock = threading.Lock()
        self._in_flight: list[Job] = []

    # --- models ---------------------------------------------------------------------------------
    def models(self) -> list[dict[str, Any]]:
        """Every model a request may name: the installed ones, then the servers' models."""
        current = self._settings.current
        loaded = self._runtime.status()
        available = psutil.virtual_memory().available
        listed: list[dict[str, Any]] = []
        for model in self._registry.installed():
            card = describe_model(model, current.profile_for(model.id).context, available)
            context = card.get("n_ctx")
            if loaded["state"] == "ready" and (loaded["model"] or {}).get("id") == model.id:
                context = (loaded["model"] or {}).get("n_ctx", context)
            listed.append({"id": model.id, "owned_by": model.source, "context_length": context})
        for server in current.servers:
            for remote in server.models:
                listed.append(
                    {
                        "id": f"{server.name}/{remote.id}",
                        "owned_by": server.name,
                        "context_length": remote.context_length,
                    }
                )
        return listed

    def selected_id(self) -> str:
        """The id of the model the user chose (the bundled one when none was)."""
        selection = self._selected.selection()
        remote = remote_model(self._settings.current, selection)
        if remote is not None:
            return remote.selection_id
        try:
            return self._registry.find(selection).id
        except ModelNotFound:
            return selection or ""

    def resolve(self, name: str | None) -> Target:
        """The model a request's ``model`` names.

        Raises:
            ModelNotFound: no installed model and no server's model has that id.
        """
        wanted = (name or "").strip()
        if not wanted or wanted in DEFAULT_ALIASES:
            wanted = self.selected_id()
        if any(model.id == wanted for model in self._registry.installed()):
            return Target(wanted)
        server_name, _, model_id = wanted.partition("/")
        server = self._settings.current.server(server_name) if model_id else None
        if server is not None and any(m.id == model_id for m in server.models):
            remote = remote_model(self._settings.current, wanted)
            assert remote is not None  # the server and its model are both there
            return Target(wanted, remote)
        raise ModelNotFound(f"There is no model {wanted!r}: GET /v1/models lists those there are.")

    def ready_now(self, target: Target) -> bool:
        """Whether a request on ``target`` could start without loading a model."""
        if target.remote is not None:
            return True
        status = self._runtime.status()
        return status["state"] == "ready" and (status["model"] or {}).get("id") == target.id

    def generation(self, target: Target) -> dict[str, Any]:
        """The generation settings of the target's model (the request may override some)."""
        return self._settings.current.profile_for(target.id).generation.model_dump()

    def local_text_engine(self, engine: ChatEngine) -> TextEngine | None:
        """The text engine under ``engine`` when it is the local one (it counts exactly)."""
        return self._runtime if engine is self._local else None

    # --- one request ----------------------------------------------------------------------------
    def chat_turn(self, job: Job, work: Callable[[ChatEngine], T], *, wait: bool = True) -> T:
        """Run ``work`` with the target's chat engine, in the engine's turn.

        Raises:
            ModelLoading: the model is not ready and ``wait`` is False.
            EngineBusy: too many requests already wait.
            WaitCancelled: the job was cancelled before its turn came.
        """
        return self._in_turn(job, wait, lambda: self._chat_engine(job.target), work)

    def text_turn(self, job: Job, work: Callable[[TextEngine], T], *, wait: bool = True) -> T:
        """Run ``work`` with the local text engine (a text completion, counting tokens).

        Raises:
            InvalidRequest: the target is a server's model.
        """
        if job.target.remote is not None:
            raise InvalidRequest(
                f"{job.target.id} is a server's model: text completions and token counts "
                "are served for installed models only; use /v1/chat/completions."
            )

        def engine() -> TextEngine:
            self._load(job.target)
            return self._runtime

        return self._in_turn(job, wait, engine, work)

    def _in_turn(
        self,
        job: Job,
        wait: bool,
        engine: Callable[[], Any],
        work: Callable[[Any], T],
    ) -> T:
        if not wait and not self.ready_now(job.target):
            raise ModelLoading(
                f"{job.target.id} is loading (or must be loaded) and the request asked not "
                "to wait (Prefer: wait=0); try again shortly."
            )
        with self._serving(job), self._turns.turn("api", job.cancelled, MAX_WAITING):
            self._publish_serving()
            chosen = engine()
            with job._holding(chosen):
                return work(chosen)

    def _chat_engine(self, target: Target) -> ChatEngine:
        if target.remote is not None:
            return RemoteEngine(target.remote)
        self._load(target)
        return self._local

    def _load(self, target: Target) -> None:
        """Make ``target`` the loaded model (the status line shows it loading), after the
        Models pane's fit check.

        Raises:
            InvalidRequest: the model will not fit in the memory that is free.
            LocalWorkError: it failed to load.
        """
        if not self.ready_now(target):
            model = self._registry.find(target.id)
            context = self._settings.current.profile_for(model.id).context
            card = describe_model(model, context, psutil.virtual_memory().available)
            if card["fit"] == "wont_fit":
                raise InvalidRequest(
                    f"{model.name} will not fit in the memory that is free now; choose a "
                    "smaller model or close other programs."
                )
            selection = self._selected.selection()
            try:  # loaded under the selection's own name, the chat need not load it again
                is_selection = self._registry.find(selection).id == target.id
            except ModelNotFound:
                is_selection = False
            load_as = selection if is_selection else target.id
            status = self._runtime.status()
            if status["wanted"] != load_as or status["state"] != "loading":
                log.info("the local API loads %s", target.id)
                self._runtime.load(load_as)
        self._runtime.ensure_ready(LOAD_TIMEOUT)

    # --- what the status line shows ---------------------------------------------------------
    @contextmanager
    def _serving(self, job: Job) -> Iterator[None]:
        with self._lock:
            self._in_flight.append(job)
        self._publish_serving()
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.remove(job)
            self._publish_serving()

    def serving(self) -> dict[str, Any]:
        """Whether API requests wait for or run on the engine: the status line's "serving an
        API request"."""
        with self._lock:
            jobs = list(self._in_flight)
        running = self._turns.holder() == "api"
        return {
            "serving": bool(jobs),
            "waiting": max(0, len(jobs) - (1 if running else 0)),
            "model": jobs[0].target.id if jobs else None,
        }

    def _publish_serving(self) -> None:
        self._events.publish("api_serving", **self.serving())

    def record(self, **row: Any) -> LogRow:
        """Add a row to the API log and tell the page."""
        added = self.log.add(**row)
        self._events.publish("api_request", row=dict(added))
        return added

    def announce(self, status: dict[str, Any]) -> None:
        """Tell the page the server started, stopped, failed to start or has a new key."""
        self._events.publish("api_server", status=status)
