"""The bridge facade: the only functions the frontend can call, on either transport.

Each public method validates its arguments (pydantic) and returns JSON-ready data.
``dispatch`` wraps every call as ``{"ok": true, "data": ...}`` or
``{"ok": false, "error": {"code", "message"}}``; tracebacks go to the log file only.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError, validate_call

from localwork import APP_NAME, __version__
from localwork.app import App
from localwork.chat.tool_budget import tool_list_cost
from localwork.chat.usage import context_usage
from localwork.conversations import export
from localwork.conversations.store import TITLE_MAX, Conversation, ListedConversation
from localwork.engine.base import EngineStatus
from localwork.errors import InvalidRequest, LocalWorkError
from localwork.events import STREAMED
from localwork.infra.userlocale import system_locale
from localwork.models.prompt_formats import PromptFormatName
from localwork.models.registry import BUNDLED_ID
from localwork.settings import PresetName, describe_validation_error, settings_form
from localwork.tools.approval import Answer, UserAnswer
from localwork.tools.mcp.config import DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS
from localwork.tools.mcp.store import StartWhen, ToolPolicy
from localwork.transports import links
from localwork.transports.pace import stream_pace_ms
from localwork.vocabulary import ToolMode

log = logging.getLogger(__name__)

ConversationId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
CallId = Annotated[str, StringConstraints(pattern=r"^call[0-9a-f]{8}$")]
ModelId = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
FolderPath = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
FilePath = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]
RepoId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
RepoFile = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
JobId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]
HubToken = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
# Row ids are SQLite integers: a bigger number can name no change (and would overflow).
ChangeId = Annotated[int, Field(ge=1, le=2**63 - 1)]
SearchQuery = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
_validated = validate_call(config={"strict": False})


class _BridgeCore:
    def __init__(self, app: App) -> None:
        self._app = app

    @_validated
    def app_info(self) -> dict[str, Any]:
        paths = self._app.paths
        return {
            "name": APP_NAME,
            "version": __version__,
            "data_dir": str(paths.data_dir),
            "log_file": str(paths.log_file),
            # A settings or MCP servers file that could not be read (each was set aside).
            "notice": " ".join(
                notice for notice in (self._app.settings.notice, self._app.mcp.notice) if notice
            )
            or None,
            "show_welcome": not self._app.settings.current.welcome_seen,
            "locale": system_locale(),
        }

    @_validated
    def get_status(self) -> dict[str, Any]:
        return {
            **self._app.engine.status(),
            "busy": self._app.chat.busy_conversations(),
            "last_seq": self._app.events.last_seq,
        }

    @_validated
    def poll_events(
        self,
        after: Annotated[int, Field(ge=0)] = 0,
        timeout: Annotated[float, Field(ge=0, le=25)] = 0.0,
        hold_streamed: Annotated[float, Field(ge=0, le=2)] = 0.0,
    ) -> dict[str, Any]:
        events = self._app.events.poll(after, timeout, hold_streamed)
        # Text is still coming: the next poll may hold it back for a pace (transports/pace.py).
        streaming = bool(events) and events[-1]["type"] in STREAMED
        return {
            "events": events,
            "last_seq": events[-1]["seq"] if events else after,
            "hold_next_ms": stream_pace_ms(self._app.engine.status()) if streaming else 0,
        }

    @_validated
    def list_conversations(self) -> list[ListedConversation]:
        return self._app.store.list_conversations()

    @_validated
    def create_conversation(self) -> Conversation:
        return self._app.store.create_conversation()

    @_validated
    def get_conversation(self, conversation_id: ConversationId) -> dict[str, Any]:
        store = self._app.store
        conversation = store.get_conversation(conversation_id)
        messages = store.messages(conversation_id)
        undone = self._app.folders.undone_calls(conversation_id)
        for message in messages:  # a card must not say "Done" for a change taken back
            calls = message["meta"].get("tool_calls")
            for call in calls if isinstance(calls, list) else []:
                if isinstance(call, dict) and call.get("audit_id") in undone:
                    call["undone"] = True
        return {
            "conversation": conversation,
            "messages": messages,
            "busy": conversation_id in self._app.chat.busy_conversations(),
            # The reply being written (calls, text so far): a reloaded page shows it again.
            "live": self._app.chat.live(conversation_id),
        }

    @_validated
    def context_usage(self, conversation_id: ConversationId) -> dict[str, Any]:
        app = self._app
        return context_usage(app.store, app.engine, app.settings, conversation_id)

    @_validated
    def rename_conversation(self, conversation_id: ConversationId, title: Title) -> Conversation:
        return self._app.store.rename_conversation(conversation_id, title)

    @_validated
    def delete_conversation(self, conversation_id: ConversationId) -> dict[str, Any]:
        self._app.chat.stop(conversation_id)
        self._app.store.delete_conversation(conversation_id)
        self._app.chat.approvals.forget(conversation_id)
        return {"deleted": conversation_id}

    @_validated
    def send_message(
        self, conversation_id: ConversationId | None, text: str, tool_mode: ToolMode | None = None
    ) -> dict[str, Any]:
        return self._app.chat.send(conversation_id, text, tool_mode)

    @_validated
    def stop_generation(self, conversation_id: ConversationId) -> dict[str, Any]:
        return {"stopped": self._app.chat.stop(conversation_id)}

    @_validated
    def retry_reply(self, conversation_id: ConversationId) -> dict[str, Any]:
        return self._app.chat.retry(conversation_id)

    @_validated
    def settings_pane(self, model_id: ModelId | None = None) -> dict[str, Any]:
        # "form": the pane's fields, drawn from the settings models' schema.
        return {**self._app.profiles.describe(model_id), "form": settings_form()}

    @_validated
    def preview_profile(self, model_id: ModelId | None, profile: dict[str, Any]) -> dict[str, Any]:
        return self._app.profiles.preview(model_id, profile)

    @_validated
    def save_profile(
        self,
        model_id: ModelId | None,
        scope: Literal["defaults", "model"],
        profile: dict[str, Any],
        overflow: Literal["trim_oldest", "stop"],
    ) -> dict[str, Any]:
        return self._app.profiles.save(model_id, scope, profile, overflow)

    @_validated
    def save_preset(self, name: PresetName, profile: dict[str, Any]) -> dict[str, Any]:
        return self._app.profiles.save_preset(name, profile)

    @_validated
    def delete_preset(self, name: PresetName) -> dict[str, Any]:
        return self._app.profiles.delete_preset(name)


class _FolderMethods:
    """Folder grants, the folder dialog, and the activity log with undo."""

    _app: App

    @_validated
    def list_grants(self) -> list[dict[str, Any]]:
        return self._app.folders.listed()

    @_validated
    def add_grant(self, path: FolderPath, mode: Literal["ro", "rw"]) -> list[dict[str, Any]]:
        return self._app.folders.add(path, mode)

    @_validated
    def remove_grant(self, path: FolderPath) -> list[dict[str, Any]]:
        return self._app.folders.remove(path)

    @_validated
    def choose_folder(self) -> dict[str, Any]:
        return {"path": self._app.folders.choose()}

    @_validated
    def list_activity(
        self,
        limit: Annotated[int, Field(ge=1, le=1000)] = 200,
        conversation_id: ConversationId | None = None,
    ) -> list[dict]:
        return self._app.folders.activity(limit, conversation_id)

    @_validated
    def undo_change(self, change_id: ChangeId) -> dict[str, Any]:
        return self._app.folders.undo(change_id)


class _ModelMethods:
    """The models pane: installed models, the catalog, downloads, import, delete, selection."""

    _app: App

    @_validated
    def models_overview(self) -> dict[str, Any]:
        return self._app.models.overview()

    @_validated
    def models_catalog(self) -> dict[str, Any]:
        return self._app.models.catalog()

    @_validated
    def repo_files(self, repo_id: RepoId) -> list[dict[str, Any]]:
        return self._app.models.repo_files(repo_id)

    @_validated
    def start_download(self, repo_id: RepoId, file: RepoFile) -> dict[str, Any]:
        return self._app.models.downloads.start(repo_id, file)

    @_validated
    def pause_download(self, job_id: JobId) -> dict[str, Any]:
        return self._app.models.downloads.pause(job_id)

    @_validated
    def resume_download(self, job_id: JobId) -> dict[str, Any]:
        return self._app.models.downloads.resume(job_id)

    @_validated
    def cancel_download(self, job_id: JobId) -> dict[str, Any]:
        return self._app.models.downloads.cancel(job_id)

    @_validated
    def import_model(self, path: FilePath, mode: Literal["copy", "link"]) -> dict[str, Any]:
        return self._app.models.import_model(path, mode)

    @_validated
    def choose_model_file(self) -> dict[str, Any]:
        return {"path": self._app.models.choose_file()}

    @_validated
    def remove_model(self, model_id: ModelId) -> dict[str, Any]:
        return self._app.models.remove(model_id)

    @_validated
    def select_model(self, model_id: ModelId, confirmed: bool = False) -> dict[str, Any]:
        return self._app.models.select(model_id, confirmed)

    @_validated
    def restart_model(self) -> EngineStatus:
        """Load the chosen model again (after a crash the guard did not restart)."""
        self._app.runtime.restart()
        return self._app.runtime.status()

    def set_prompt_format(
        self, model_id: ModelId, prompt_format: PromptFormatName
    ) -> dict[str, Any]:
        return self._app.models.set_prompt_format(model_id, prompt_format)

    @_validated
    def set_hub_token(self, token: HubToken | None) -> dict[str, Any]:
        return self._app.models.set_token(token)


class _ToolUseMethods:
    """How the assistant may use tools in a conversation, and the user's approvals."""

    _app: App

    @_validated
    def set_tool_mode(self, conversation_id: ConversationId, mode: ToolMode) -> Conversation:
        return self._app.store.set_tool_mode(conversation_id, mode)

    @_validated
    def answer_tool_call(
        self,
        conversation_id: ConversationId,
        call_id: CallId,
        answer: Answer,
        reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = "",
    ) -> dict[str, Any]:
        return self._app.chat.decide(conversation_id, call_id, UserAnswer(answer, reason))


class _ConversationMethods:
    """Regenerate and edit, search, undo of a delete, export and import, links, the welcome."""

    _app: App

    @_validated
    def regenerate_reply(self, conversation_id: ConversationId) -> dict[str, Any]:
        return self._app.chat.regenerate(conversation_id)

    @_validated
    def edit_message(
        self,
        conversation_id: ConversationId,
        message_id: Annotated[int, Field(ge=1)],
        text: str,
    ) -> dict[str, Any]:
        return self._app.chat.edit_and_resend(conversation_id, message_id, text)

    @_validated
    def search_conversations(self, query: SearchQuery) -> list[dict[str, Any]]:
        return self._app.store.search(query)

    @_validated
    def restore_conversation(self, conversation_id: ConversationId) -> Conversation:
        return self._app.store.restore_conversation(conversation_id)

    @_validated
    def export_conversation(
        self, conversation_id: ConversationId, format: export.ExportFormat
    ) -> dict[str, Any]:
        return self._app.files.export(conversation_id, format)

    @_validated
    def save_conversation(
        self, conversation_id: ConversationId, format: export.ExportFormat
    ) -> dict[str, Any]:
        return self._app.files.save(conversation_id, format)

    @_validated
    def import_conversation(self, data: str) -> Conversation:
        return self._app.files.import_conversation(data)

    @_validated
    def open_link(self, url: Annotated[str, StringConstraints(min_length=1)]) -> dict[str, Any]:
        return {"opened": links.open_in_browser(url)}

    @_validated
    def dismiss_welcome(self) -> dict[str, Any]:
        self._app.settings.update({"welcome_seen": True})
        return {"show_welcome": False}


ServerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
BaseUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
ApiKey = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
RemoteModelId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
]


class _ServerMethods:
    """The Models pane's Servers: OpenAI-compatible servers and their models."""

    _app: App

    @_validated
    def list_servers(self) -> dict[str, Any]:
        return self._app.servers.overview()

    @_validated
    def add_server(
        self, name: ServerName, base_url: BaseUrl, api_key: ApiKey | None = None
    ) -> dict[str, Any]:
        return self._app.servers.add(name, base_url, api_key)

    @_validated
    def update_server(
        self, name: ServerName, base_url: BaseUrl | None = None, api_key: ApiKey | None = None
    ) -> dict[str, Any]:
        return self._app.servers.update(name, base_url, api_key)

    @_validated
    def remove_server(self, name: ServerName) -> dict[str, Any]:
        return self._app.servers.remove(name)

    @_validated
    def probe_server(self, name: ServerName) -> dict[str, Any]:
        return self._app.servers.probe(name)

    @_validated
    def server_models(self, name: ServerName) -> dict[str, Any]:
        return self._app.servers.list_server_models(name)

    @_validated
    def set_server_model(
        self,
        name: ServerName,
        model_id: RemoteModelId,
        context_length: Annotated[int, Field(ge=256, le=10_000_000)] | None = None,
        tools: Literal["native", "prompt"] | None = None,
        reasoning: bool | None = None,
    ) -> dict[str, Any]:
        return self._app.servers.set_model(
            name, model_id, context_length=context_length, tools=tools, reasoning=reasoning
        )

    @_validated
    def remove_server_model(self, name: ServerName, model_id: RemoteModelId) -> dict[str, Any]:
        return self._app.servers.remove_model(name, model_id)

    @_validated
    def test_server_tools(self, name: ServerName, model_id: RemoteModelId) -> dict[str, Any]:
        return self._app.servers.test_tools(name, model_id)

    @_validated
    def select_server_model(self, name: ServerName, model_id: RemoteModelId) -> dict[str, Any]:
        return self._app.servers.select(name, model_id)

    @_validated
    def continue_locally(self, conversation_id: ConversationId) -> dict[str, Any]:
        """After a server failed: the last installed model used answers the same message."""
        local = self._app.settings.current.last_local_model or BUNDLED_ID
        self._app.models.select(local, confirmed=True)
        return {**self._app.chat.retry(conversation_id), "model": local}


McpName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
McpToolName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
McpTimeout = Annotated[float, Field(gt=0, le=MAX_TIMEOUT_SECONDS)]
McpText = Annotated[str, StringConstraints(min_length=1, max_length=1_000_000)]
McpValue = Annotated[str, StringConstraints(max_length=100_000)]


class _McpMethods:
    """The Settings pane's MCP servers: add, import, turn on and off, each tool's policy."""


Origin = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _ApiMethods:
    """Settings → Local API and the API log (the page draws them; ``api/`` serves)."""

    _app: App

    @_validated
    def mcp_servers(self, start: bool = False) -> dict[str, Any]:
        """Every server with its state and tools, each server's tool cost, and the whole
        offered tool list's; ``start``: start the servers that are on first."""
        app = self._app
        servers = app.mcp.overview(start=start)
        status = app.engine.status()
        exact = status["state"] == "ready"  # counting otherwise waits for a model to load
        ready = {source.name: source for source in app.mcp.sources(start=False)}
        for server in servers:
            source = ready.get(server["name"])
            tools = {tool.name: tool for tool in source.tools()} if source else {}
            server["tool_tokens"] = tool_list_cost(app.engine, tools, exact=exact)
        offered = app.folders.tool_runner(list(ready.values())).offered
        model = status.get("model") or {}
        return {
            "servers": servers,
            "offered_tokens": {**tool_list_cost(app.engine, offered, exact=exact)},
            "offered_tools": len(offered),
            "context_length": model.get("n_ctx"),
            "notice": app.mcp.notice,
        }

    @_validated
    def mcp_add_stdio(
        self,
        name: McpName,
        command: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)],
        args: list[McpValue] | None = None,
        env: dict[str, McpValue] | None = None,
        cwd: FolderPath | None = None,
        timeout: McpTimeout = DEFAULT_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        return self._app.mcp.add_stdio(name, command, args or [], env=env, cwd=cwd, timeout=timeout)

    @_validated
    def mcp_add_http(
        self,
        name: McpName,
        url: BaseUrl,
        headers: dict[str, McpValue] | None = None,
        timeout: McpTimeout = DEFAULT_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        return self._app.mcp.add_http(name, url, headers=headers, timeout=timeout)

    @_validated
    def mcp_import(self, text: McpText) -> dict[str, Any]:
        return self._app.mcp.import_document(text)

    @_validated
    def mcp_remove(self, name: McpName) -> dict[str, Any]:
        self._app.mcp.remove(name)
        return {"removed": name}

    @_validated
    def mcp_set_enabled(self, name: McpName, enabled: bool) -> dict[str, Any]:
        return self._app.mcp.set_enabled(name, enabled)

    @_validated
    def mcp_set_start(self, name: McpName, start: StartWhen) -> dict[str, Any]:
        return self._app.mcp.set_start(name, start)

    @_validated
    def mcp_set_timeout(self, name: McpName, timeout: McpTimeout) -> dict[str, Any]:
        return self._app.mcp.set_timeout(name, timeout)

    @_validated
    def mcp_set_tool_policy(
        self, name: McpName, tool: McpToolName, policy: ToolPolicy | None
    ) -> dict[str, Any]:
        return self._app.mcp.set_tool_policy(name, tool, policy)

    @_validated
    def mcp_restart(self, name: McpName) -> dict[str, Any]:
        return self._app.mcp.restart(name)

    def api_status(self) -> dict[str, Any]:
        """enabled, running, base_url, port (saved; 0 picks a free one), bound_port, lan,
        lan_urls (other machines' base URLs), cors_origins, masked_key, error, and whether
        API requests are being served (serving, waiting, model)."""
        return self._app.api.status()

    @_validated
    def set_api_enabled(self, enabled: bool) -> dict[str, Any]:
        return self._app.api.configure(enabled=enabled)

    @_validated
    def set_api_port(self, port: Annotated[int, Field(ge=0, le=65535)]) -> dict[str, Any]:
        """The port to serve on; 0 picks a free one at each start (``bound_port`` says it)."""
        return self._app.api.configure(port=port)

    @_validated
    def set_api_lan(self, lan: bool) -> dict[str, Any]:
        """Serve on the local network (0.0.0.0) too; the key is required either way."""
        return self._app.api.configure(lan=lan)

    @_validated
    def set_api_origins(
        self, origins: Annotated[list[Origin], Field(max_length=50)]
    ) -> dict[str, Any]:
        """The web pages allowed to call the API from a browser (exact origins, never *)."""
        return self._app.api.configure(cors_origins=origins)

    @_validated
    def regenerate_api_key(self) -> dict[str, Any]:
        return self._app.api.regenerate_key()

    @_validated
    def copy_api_key(self) -> dict[str, Any]:
        """The key itself: only on the user's explicit Copy."""
        return {"key": self._app.api.reveal_key()}

    @_validated
    def api_log(
        self,
        after: Annotated[int, Field(ge=0)] = 0,
        limit: Annotated[int, Field(ge=1, le=500)] = 200,
    ) -> list[dict[str, Any]]:
        """The API log's rows after the row ``after`` (new ones also come as ``api_request``
        events): id, time, client, endpoint, model, tokens_in, tokens_out, duration_ms,
        status."""
        return [dict(row) for row in self._app.api.service.log.rows(after, limit)]


class Bridge(
    _BridgeCore,
    _FolderMethods,
    _ConversationMethods,
    _ToolUseMethods,
    _ModelMethods,
    _ServerMethods,
    _McpMethods,
    _ApiMethods,
):
    """Methods callable from the frontend. Holds only private references."""

    def dispatch(self, method: str, params: Any) -> dict[str, Any]:
        """Call one bridge method by name; the single entry point of both transports."""
        try:
            if method not in EXPOSED_METHODS:
                raise InvalidRequest(f"Unknown bridge method {method!r}.")
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise InvalidRequest("Bridge parameters must be a JSON object.")
            self._app.frontend_connected.set()
            return {"ok": True, "data": getattr(self, method)(**params)}
        except ValidationError as error:
            message = describe_validation_error(error)
            return {"ok": False, "error": InvalidRequest(f"Invalid request: {message}").to_dict()}
        except LocalWorkError as error:
            return {"ok": False, "error": error.to_dict()}
        except Exception:
            log.exception("bridge method %s failed", method)
            log_file = self._app.paths.log_file
            message = f"Something went wrong inside LocalWork Hero. Details are in {log_file}."
            return {"ok": False, "error": LocalWorkError(message).to_dict()}


EXPOSED_METHODS: frozenset[str] = frozenset(
    name
    for part in (
        _BridgeCore,
        _FolderMethods,
        _ConversationMethods,
        _ToolUseMethods,
        _ModelMethods,
        _ServerMethods,
        _McpMethods,
        _ApiMethods,
    )
    for name, value in vars(part).items()
    if not name.startswith("_") and callable(value)
)


class WindowApi:
    """What pywebview exposes as ``window.pywebview.api``: one method, the same dispatch."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge

    def call(self, method: str, params: Any = None) -> dict[str, Any]:
        return self._bridge.dispatch(method, params)
