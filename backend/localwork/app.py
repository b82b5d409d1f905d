"""The app's parts wired together, shared by every transport (window, HTTP, scripts)."""

from __future__ import annotations

import logging
import threading

from localwork.chat.agent import AgentLoop
from localwork.chat.approvals import ApprovalGate
from localwork.chat.service import ChatService
from localwork.engine.runtime import ModelRuntime
from localwork.events import EventBus
from localwork.folders import Folders
from localwork.models.registry import ModelRegistry
from localwork.models.service import ModelService
from localwork.paths import AppPaths
from localwork.profiles import ProfileService
from localwork.settings import SettingsStore
from localwork.store import ConversationStore
from localwork.tools.audit import AuditLog
from localwork.transfer import ConversationFiles

log = logging.getLogger(__name__)


class App:
    def __init__(self, paths: AppPaths) -> None:
        paths.create()
        self.paths = paths
        self.events = EventBus()
        self.settings = SettingsStore(paths.settings_file)
        self.store = ConversationStore(paths.database_file)
        self.files = ConversationFiles(self.store)
        self.registry = ModelRegistry(paths.models_dir)
        self.runtime = ModelRuntime(
            self.registry, self.settings, self.events, paths.engine_log_file
        )
        self.profiles = ProfileService(self.settings, self.registry, self.runtime)
        self.audit = AuditLog(paths.audit_file)
        self.folders = Folders(self.settings, paths, self.audit)
        approvals = ApprovalGate()
        agent = AgentLoop(self.runtime, self.settings, self.folders, approvals, self.events)
        self.chat = ChatService(self.store, self.runtime, self.events, agent, approvals)
        self.models = ModelService(
            paths.models_dir, self.settings, self.registry, self.runtime, self.events
        )
        # Set on the frontend's first bridge call: the self-test waits for it.
        self.frontend_connected = threading.Event()

    def start(self) -> None:
        self.chat.start()
        self.runtime.load(self.settings.current.selected_model)

    def close(self) -> None:
        self.models.close()  # first: a running download keeps its partial file for next time
        self.events.close()
        self.chat.close()
        self.runtime.close()
        self.store.close()
        self.audit.close()
        self.folders.close()
