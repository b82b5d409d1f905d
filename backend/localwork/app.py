"""The app's parts wired together, shared by every transport (window, HTTP, scripts).

This is the composition root: every part is built here, once, from ``AppOptions``; nothing
reaches in afterwards to swap a part.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from localwork.api.server import ApiServer
from localwork.api.service import ApiService
from localwork.chat.agent import AgentLoop
from localwork.chat.approvals import ApprovalGate
from localwork.chat.service import ChatService
from localwork.conversations.export import ConversationFiles
from localwork.conversations.store import ConversationStore
from localwork.engine.choice import SelectedEngine
from localwork.engine.gate import EngineTurns
from localwork.engine.local.runtime import ModelRuntime
from localwork.engine.remote.connection import Timeouts
from localwork.events import EventBus
from localwork.infra.paths import AppPaths
from localwork.library.profiles import ProfileService
from localwork.library.servers import ServerService
from localwork.library.service import ModelService
from localwork.models.registry import ModelRegistry
from localwork.settings import FolderGrant, SettingsStore
from localwork.tools.approval import Policy
from localwork.tools.audit import AuditLog
from localwork.tools.folders import Folders
from localwork.tools.mcp.service import McpService
from localwork.tools.mcp.store import McpStore
from localwork.tools.source import ToolSource

log = logging.getLogger(__name__)


class Pickers(Protocol):
    """Native file dialogs (the desktop window has them; a browser tab does not). Each returns
    the chosen path, or None when the user cancelled."""

    def folder(self) -> str | None: ...

    def gguf_file(self) -> str | None: ...

    def save_path(self, suggested_name: str) -> str | None: ...


# Builds the runtime that loads and runs the selected model; tests pass an in-process fake.
RuntimeFactory = Callable[[ModelRegistry, SettingsStore, EventBus, Path], ModelRuntime]


@dataclass(frozen=True)
class AppOptions:
    # None: no native dialogs here, the page asks for paths in its own way.
    pickers: Pickers | None = None
    # The folders for this run only, instead of the saved grants (the command line's --grant).
    session_grants: list[FolderGrant] | None = field(default=None)
    # "ask": the user answers each change; "approve"/"refuse": the command line's --yes or not.
    approval_policy: Policy = "ask"
    runtime: RuntimeFactory = ModelRuntime
    # Where tools come from besides the file tools (MCP servers…): see tools/source.py.
    tool_sources: tuple[ToolSource, ...] = ()
    # How long a server's model may keep silent before its reply fails (``ask`` waits less).
    remote_timeouts: Timeouts = field(default_factory=Timeouts)
    # The model for this run only, instead of the saved selection (the command line's
    # ``ask --model``): an installed model's id, or a server's ``NAME/MODEL``.
    session_model: str | None = None


class App:
    def __init__(self, paths: AppPaths, options: AppOptions | None = None) -> None:
        options = options or AppOptions()
        pickers = options.pickers
        paths.create()
        self.paths = paths
        self.events = EventBus()
        self.settings = SettingsStore(paths.settings_file)
        self.store = ConversationStore(paths.database_file)
        self.files = ConversationFiles(
            self.store, save_picker=pickers.save_path if pickers else None
        )
        self.registry = ModelRegistry(paths.models_dir)
        self.runtime = options.runtime(
            self.registry, self.settings, self.events, paths.engine_log_file
        )
        # The engine of the selected model: the local worker's, or a server's (engine/choice.py).
        self.engine = SelectedEngine(
            self.settings,
            self.runtime,
            self.events,
            options.remote_timeouts,
            session_model=options.session_model,
        )
        self.servers = ServerService(self.settings, self.engine)
        self.profiles = ProfileService(self.settings, self.registry, self.runtime)
        self.audit = AuditLog(paths.audit_file)
        # The user's MCP servers (mcp.json): one manager runs them, each one that is on is a
        # tool source, asked for at each reply.
        self.mcp = McpService(McpStore(paths.mcp_file))
        extra_sources = options.tool_sources
        self.folders = Folders(
            self.settings,
            paths,
            self.audit,
            picker=pickers.folder if pickers else None,
            session_grants=options.session_grants,
            other_sources=lambda: (*extra_sources, *self.mcp.sources()),
        )
        approvals = ApprovalGate(options.approval_policy)
        agent = AgentLoop(self.engine, self.settings, self.folders, approvals, self.events)
        # The chat's replies and the local API's requests take turns on the one engine.
        self.engine_turns = EngineTurns()
        self.chat = ChatService(
            self.store, self.engine, self.events, agent, approvals, self.engine_turns
        )
        self.api = ApiServer(
            ApiService(
                self.settings,
                self.registry,
                self.runtime,
                self.engine,
                self.engine_turns,
                self.events,
            ),
            self.settings,
        )
        self.models = ModelService(
            paths.models_dir,
            self.settings,
            self.registry,
            self.runtime,
            self.engine,
            self.events,
            picker=pickers.gguf_file if pickers else None,
        )
        # Set on the frontend's first bridge call: the self-test waits for it.
        self.frontend_connected = threading.Event()

    def start(self, *, api: bool = True) -> None:
        """Start the reply queue and load the selected model; serve the local API when the
        settings turn it on (``api`` False: the caller starts it itself, ``--api``)."""
        self.chat.start()
        self.engine.apply_selection()
        self.mcp.start_at_launch()  # in the background: startup never waits for a server
        if api and self.settings.current.local_api.enabled:
            self.api.apply_settings()

    def close(self) -> None:
        self.api.stop()  # first: no request may reach a part that is closing
        self.models.close()  # first: a running download keeps its partial file for next time
        self.events.close()
        self.chat.close()
        self.mcp.close()  # after the replies: every server's process group stops
        self.runtime.close()
        self.store.close()
        self.audit.close()
        self.folders.close()
