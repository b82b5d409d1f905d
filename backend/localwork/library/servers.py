"""The servers the user added (Models pane, Servers; ``localwork-hero servers``): adding and
removing them, listing their models, setting each model up, testing whether it takes tools
natively, and selecting one.

A server is saved in the settings file with its key (like the Hub token: never sent to the
page; the page only learns whether there is one). Adding a server never needs it to be up: it
is saved, and its state is said apart (``probe``). Its models are what the user chose from its
list (or typed, when it has none), each with a context length (the server's own figure when
its list says, else 8,192), how it takes tools, and whether it may think first.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from localwork.engine.choice import remote_model
from localwork.engine.remote.address import is_unencrypted_remote, normalise_base_url
from localwork.engine.remote.client import RemoteChatClient
from localwork.engine.remote.connection import RemoteServer, Timeouts
from localwork.engine.remote.model_list import ModelList, list_models
from localwork.engine.remote.request import ChatRequest, Sampling, ToolSpec
from localwork.errors import InvalidRequest, LocalWorkError, NotFound, RemoteError
from localwork.settings import (
    RESERVED_SERVER_NAMES,
    SERVER_NAME_PATTERN,
    AppSettings,
    RemoteModelSetting,
    RemoteServerSetting,
    SettingsStore,
    settings_error,
)

# Quick answers for the pane and the CLI: a server that is up answers a model list at once.
PROBE_TIMEOUTS = Timeouts(connect=3.0, read=10.0, write=5.0)
# The tool test's call may take a cold server a while (a model loading on first use).
TEST_TIMEOUTS = Timeouts(connect=5.0, read=60.0, write=10.0)
_TEST_TOOL = ToolSpec(
    "get_current_time",
    "Get the current time.",
    {"type": "object", "properties": {}, "required": []},
)


@dataclass(frozen=True)
class Preset:
    """A kind of server with the address it listens on by default."""

    name: str
    base_url: str
    note: str


PRESETS = (
    Preset("llama-server", "http://127.0.0.1:8080/v1", "llama.cpp's server (also with --rpc)"),
    Preset("vLLM", "http://127.0.0.1:8000/v1", "vllm serve MODEL"),
    Preset("Ollama", "http://127.0.0.1:11434/v1", "Ollama's OpenAI-compatible API"),
    Preset("LM Studio", "http://127.0.0.1:1234/v1", "LM Studio's local server"),
    Preset("LiteLLM", "http://127.0.0.1:4000/v1", "the LiteLLM proxy"),
)

ToolsFound = Literal["native", "prompt"]


class FollowsSelection(Protocol):
    """Told when the selected model changed: the app's ``SelectedEngine``; the command line,
    which runs no model while it changes the list, passes one that does nothing."""

    def apply_selection(self) -> None: ...


class ServerService:
    def __init__(self, settings: SettingsStore, engine: FollowsSelection) -> None:
        self._settings = settings
        self._engine = engine
        self._lock = threading.Lock()  # one change of the server list at a time

    # --- what the pane shows ------------------------------------------------------------------
    def overview(self) -> dict[str, Any]:
        current = self._settings.current
        return {
            "servers": [_described(server) for server in current.servers],
            "presets": [preset.__dict__ for preset in PRESETS],
            "selected": current.selected_model
            if remote_model(current, current.selected_model)
            else None,
        }

    def probe(self, name: str) -> dict[str, Any]:
        """Whether the server answers now: ``{"state": "ready", "models": [...]}`` or
        ``{"state": "failed", "reason": ...}``. Never raises for the server's sake."""
        server = self._server(name)
        try:
            listed = self._list(server, PROBE_TIMEOUTS)
        except LocalWorkError as error:
            return {"state": "failed", "reason": error.message, "code": error.code}
        return {"state": "ready", "models": listed.ids, "listed": listed.listed}

    # --- changing the list ------------------------------------------------------------------
    def add(self, name: str, base_url: str, api_key: str | None = None) -> dict[str, Any]:
        """Save a server (it need not be up).

        Raises:
            InvalidRequest: a bad name or address, or a server with that name exists.
        """
        _check_name(name)
        url = RemoteServer(base_url, api_key).base_url  # checks the address and the key
        with self._lock:
            current = self._settings.current
            if current.server(name) is not None:
                raise InvalidRequest(
                    f"There is already a server called {name!r}: remove it first, or choose "
                    "another name."
                )
            added = {"name": name.strip(), "base_url": url, "api_key": _key(api_key)}
            servers = [s.model_dump() for s in current.servers] + [added]
            self._store(current, {"servers": servers})
        return self.overview()

    def update(
        self, name: str, base_url: str | None = None, api_key: str | None = None
    ) -> dict[str, Any]:
        """Change a server's address or key (an empty key forgets it; None keeps it)."""
        with self._lock:
            current = self._settings.current
            server = self._server(name, current)
            patch: dict[str, Any] = {}
            if base_url is not None:
                patch["base_url"] = normalise_base_url(base_url)
            if api_key is not None:
                patch["api_key"] = RemoteServer(server.base_url, api_key).api_key
            self._replace_server(current, server.model_copy(update=patch))
        self._engine_follows()
        return self.overview()

    def remove(self, name: str) -> dict[str, Any]:
        """Forget a server; if one of its models was selected, the last installed model used
        is selected again."""
        with self._lock:
            current = self._settings.current
            server = self._server(name, current)
            selected = remote_model(current, current.selected_model)
            patch: dict[str, Any] = {
                "servers": [s.model_dump() for s in current.servers if s is not server]
            }
            if selected is not None and selected.server_name == server.name:
                patch["selected_model"] = current.last_local_model
            self._store(current, patch)
        if "selected_model" in patch:
            self._engine.apply_selection()
        return self.overview()

    # --- its models ---------------------------------------------------------------------------
    def list_server_models(self, name: str) -> dict[str, Any]:
        """The models the server offers, for the pane to choose from.

        Raises:
            NotFound: no such server. RemoteError (and its kinds): it did not answer.
        """
        listed = self._list(self._server(name), PROBE_TIMEOUTS)
        return {
            "ids": listed.ids,
            "listed": listed.listed,
            "note": listed.note,
            "context_lengths": listed.context_lengths,
        }

    def set_model(
        self,
        name: str,
        model_id: str,
        *,
        context_length: int | None = None,
        tools: ToolsFound | None = None,
        reasoning: bool | None = None,
    ) -> dict[str, Any]:
        """Add a model to the server's list, or change how it is set up. A new model's
        context length is the server's figure when its list says one, else 8,192."""
        model_id = model_id.strip()
        if not model_id:
            raise InvalidRequest("Type the model id the server knows the model by.")
        server = self._server(name)
        known = next((m for m in server.models if m.id == model_id), None)
        if known is None and context_length is None:
            context_length = self._servers_context_length(server, model_id)
        patch = {
            key: value
            for key, value in (
                ("context_length", context_length),
                ("tools", tools),
                ("reasoning", reasoning),
            )
            if value is not None
        }
        model = (known or RemoteModelSetting(id=model_id)).model_copy(update=patch)
        with self._lock:
            current = self._settings.current
            server = self._server(name, current)
            models = [m for m in server.models if m.id != model_id] + [model]
            if known is not None:  # keep the user's order
                models = [model if m.id == model_id else m for m in server.models]
            self._replace_server(current, server.model_copy(update={"models": models}))
        self._engine_follows()
        return self.overview()

    def remove_model(self, name: str, model_id: str) -> dict[str, Any]:
        with self._lock:
            current = self._settings.current
            server = self._server(name, current)
            models = [m for m in server.models if m.id != model_id]
            self._replace_server(current, server.model_copy(update={"models": models}))
        return self.overview()

    def test_tools(self, name: str, model_id: str) -> dict[str, Any]:
        """Ask the model for a tiny tool call: if the server returns one, the model takes
        tools natively; otherwise (plain text, or the server refuses tools) they are put in
        the prompt. The finding is saved with the model.

        Raises:
            NotFound: no such server. RemoteUnreachable, RemoteAuthFailed…: the server could
                not be asked at all (nothing is changed then).
        """
        server = self._server(name)
        client = RemoteChatClient(_connection(server, TEST_TIMEOUTS))
        request = ChatRequest(
            model=model_id,
            messages=[{"role": "user", "content": "What time is it? Use the tool."}],
            tools=[_TEST_TOOL],
            tool_choice="required",
            sampling=Sampling(temperature=0.0),
            max_tokens=64,
        )
        try:
            reply = client.stream_chat(request)
        except RemoteError as error:
            if error.status not in (400, 422, 500, 501) and error.code != "remote_stream_dropped":
                raise  # it could not be asked: say why, change nothing
            found: ToolsFound = "prompt"
            detail = f"The server refused tools ({error.message}); they go in the prompt."
        else:
            native = any(call.name == _TEST_TOOL.name for call in reply.tool_calls)
            found = "native" if native else "prompt"
            detail = (
                "The model called the test tool: tools go to the server natively."
                if native
                else "The model answered in text instead of calling the test tool: tools go "
                "in the prompt."
            )
        self.set_model(name, model_id, tools=found)
        return {"tools": found, "detail": detail, **self.overview()}

    def select(self, name: str, model_id: str) -> dict[str, Any]:
        """Use this server's model for the chat (set up with the defaults if it is new)."""
        server = self._server(name)
        if not any(m.id == model_id for m in server.models):
            self.set_model(name, model_id)
        self._settings.update({"selected_model": f"{server.name}/{model_id}"})
        self._engine.apply_selection()
        return {"selected": f"{server.name}/{model_id}", **self.overview()}

    # --- helpers ------------------------------------------------------------------------------
    def _server(self, name: str, current: AppSettings | None = None) -> RemoteServerSetting:
        server = (current or self._settings.current).server(name)
        if server is None:
            raise NotFound(f"There is no server called {name!r}.")
        return server

    def _list(self, server: RemoteServerSetting, timeouts: Timeouts) -> ModelList:
        return list_models(server.base_url, server.api_key, timeouts=timeouts)

    def _servers_context_length(self, server: RemoteServerSetting, model_id: str) -> int | None:
        try:
            return self._list(server, PROBE_TIMEOUTS).context_lengths.get(model_id)
        except LocalWorkError:  # not up now: the default, which the user can change
            return None

    def _replace_server(self, current: AppSettings, server: RemoteServerSetting) -> None:
        servers = [(server if s.name == server.name else s).model_dump() for s in current.servers]
        self._store(current, {"servers": servers})

    def _store(self, current: AppSettings, patch: dict[str, Any]) -> None:
        try:
            checked = AppSettings.model_validate({**current.model_dump(), **patch})
        except ValidationError as error:
            raise settings_error(error) from None
        self._settings.replace(checked)

    def _engine_follows(self) -> None:
        """A change to the selected server's model shows in the status line at once."""
        current = self._settings.current
        if remote_model(current, current.selected_model) is not None:
            self._engine.apply_selection()


def _check_name(name: str) -> None:
    """Raises: InvalidRequest: not a name a server may have, in words (the settings' own
    check says only which pattern it missed)."""
    name = name.strip()
    if not re.fullmatch(SERVER_NAME_PATTERN, name):
        raise InvalidRequest(
            f"{name!r} cannot name a server: use 1 to 40 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. gpu-box)."
        )
    if name.lower() in RESERVED_SERVER_NAMES:
        raise InvalidRequest(f"{name!r} is a name the app's own models use; choose another.")


def _connection(server: RemoteServerSetting, timeouts: Timeouts) -> RemoteServer:
    return RemoteServer(server.base_url, server.api_key, timeouts)


def _key(api_key: str | None) -> str | None:
    return (api_key or "").strip() or None


def _described(server: RemoteServerSetting) -> dict[str, Any]:
    """A server as the page sees it: everything but its key."""
    return {
        "name": server.name,
        "base_url": server.base_url,
        "has_key": server.api_key is not None,
        "unencrypted": is_unencrypted_remote(server.base_url),
        "models": [model.model_dump() for model in server.models],
    }
