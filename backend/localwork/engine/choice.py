"""Which engine takes the chat's turns: the one of the model the user selected.

A selected model is either installed (``bundled/…``, ``local/…``: the local worker through
``PromptTextTurns``) or a server's (``gpu-box/Qwen3-8B``: the part before the first "/" is a
server the user added, ``RemoteEngine``). ``SelectedEngine`` is a ``ChatEngine`` that hands
each call to the engine of the current selection, and says the selection's status in the
local runtime's shape, so the status line, the failure advice and the page need not know
which kind it is. Choosing a server's model frees the local model's memory; choosing an
installed one loads it. A run may name its own model instead of the saved selection
(``session_model``: the command line's ``ask --model``), which leaves the saved one as it was.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from localwork.engine.base import ChatEngine, EngineStatus, ReadyModel, TurnReply, TurnRequest
from localwork.engine.local.runtime import ModelRuntime
from localwork.engine.local.turns import PromptTextTurns
from localwork.engine.remote.connection import RemoteServer, Timeouts
from localwork.engine.remote.engine import RemoteEngine, RemoteModel
from localwork.errors import InvalidRequest
from localwork.events import EventBus
from localwork.settings import AppSettings, RemoteModelSetting, SettingsStore
from localwork.tools.base import Tool
from localwork.vocabulary import Message


def remote_model(
    settings: AppSettings, selection: str | None, timeouts: Timeouts | None = None
) -> RemoteModel | None:
    """The server's model that ``selection`` names, None for an installed model.

    Raises:
        InvalidRequest: it names a server the user added, but not one of its models, or the
            server's address is no longer accepted.
    """
    name, _, model_id = (selection or "").partition("/")
    server = settings.server(name) if model_id else None
    if server is None:
        return None
    model = next((m for m in server.models if m.id == model_id), None)
    if model is None:  # typed on the command line, or not set up yet: the defaults
        model = RemoteModelSetting(id=model_id)
    return RemoteModel(
        server_name=server.name,
        server=RemoteServer(server.base_url, server.api_key, timeouts or Timeouts()),
        model=model.id,
        context_length=model.context_length,
        tools=model.tools,
        thinking=model.reasoning,
    )


def remote_label(model: RemoteModel) -> str:
    """How the status line names it: "Qwen3-8B on gpu-box (remote)"."""
    return f"{model.model.rsplit('/', 1)[-1]} on {model.server_name} (remote)"


class SelectedEngine:
    """A ``ChatEngine`` for whichever model is selected (see the module's note)."""

    def __init__(
        self,
        settings: SettingsStore,
        runtime: ModelRuntime,
        events: EventBus,
        timeouts: Timeouts | None = None,  # how long a server may stay silent (AppOptions)
        session_model: str | None = None,  # this run's model instead of the saved selection
    ) -> None:
        self._timeouts = timeouts or Timeouts()
        self._session_model = session_model
        self._settings = settings
        self._runtime = runtime
        self._events = events
        self._local = PromptTextTurns(runtime)
        self._lock = threading.Lock()
        self._remote: RemoteEngine | None = None  # the engine of the selected server model

    # --- the selection --------------------------------------------------------------------------
    def selection(self) -> str | None:
        """The model this run uses: its own (``session_model``), else the saved selection."""
        return self._session_model or self._settings.current.selected_model

    def apply_selection(self) -> None:
        """Make the selection the engine: load an installed model, or free its memory for a
        server's and say the server's model is ready."""
        remote = self._selected_remote()
        with self._lock:
            self._remote = RemoteEngine(remote) if remote is not None else None
        if remote is None:
            self._runtime.load(self.selection())
            return
        self._runtime.unload()
        self._events.publish("model_status", status=self.status())

    def current(self) -> ChatEngine:
        """The engine of the selection as it is now (a model's settings may have changed)."""
        remote = self._selected_remote()
        with self._lock:
            if remote is None:
                return self._local
            if self._remote is None or self._remote.model != remote:
                self._remote = RemoteEngine(remote)
            return self._remote

    def _selected_remote(self) -> RemoteModel | None:
        return remote_model(self._settings.current, self.selection(), self._timeouts)

    def status(self) -> EngineStatus:
        """The selection's status in the runtime's shape (``model_status`` events)."""
        engine = self.current()
        if not isinstance(engine, RemoteEngine):
            return self._runtime.status()
        model = engine.model
        label = remote_label(model)
        described: dict[str, Any] = {
            "id": model.selection_id,
            "name": model.model,
            "label": label,
            "remote": True,
            "server": model.server_name,
            "host": urlsplit(model.server.base_url).hostname,
            "base_url": model.server.base_url,
            "n_ctx": model.context_length,
            "training_context": None,
            "tools": model.tools,
        }
        return {
            "state": "ready",
            "model": described,
            "wanted": model.selection_id,
            "wanted_label": label,
            "error": None,
            "last_stats": engine.last_stats,
            "engine_pid": None,
            "gpu_offload": False,
        }

    # --- ChatEngine -------------------------------------------------------------------------
    def ready(self, timeout: float = 300.0) -> ReadyModel:
        return self.current().ready(timeout)

    def take_turn(self, turn: TurnRequest) -> TurnReply:
        engine = self.current()
        if engine is self._local:
            self._load_selection()
        return engine.take_turn(turn)

    def _load_selection(self) -> None:
        """Load the selected model again if another one took its place: a local API request
        may have named another installed model (``api/``); the chat answers with the user's."""
        status = self._runtime.status()
        if status["wanted"] != self.selection() and status["state"] != "idle":
            self._runtime.load(self.selection())

    def count_conversation(self, messages: list[Message]) -> int:
        return self.current().count_conversation(messages)

    def count_tools(self, tools: Mapping[str, Tool]) -> int:
        return self.current().count_tools(tools)

    def cancel(self) -> None:
        """Stop whichever engine is writing: the selection may have changed since it began."""
        self._runtime.cancel()
        with self._lock:
            remote = self._remote
        if remote is not None:
            remote.cancel()


def check_selection(settings: AppSettings, selection: str) -> RemoteModel:
    """The server's model ``selection`` names.

    Raises:
        InvalidRequest: no server the user added has that name.
    """
    model = remote_model(settings, selection)
    if model is None:
        name = selection.partition("/")[0]
        raise InvalidRequest(
            f"There is no server called {name!r}. Add it under Models, Servers "
            "(or `localwork-hero servers add`)."
        )
    return model
