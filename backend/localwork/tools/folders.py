"""Folder grants kept in settings, and the sandbox and tools they give, for the whole app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from localwork.errors import InvalidRequest, NotFound, SandboxDenied
from localwork.infra.paths import AppPaths
from localwork.settings import FolderGrant, SettingsStore
from localwork.tools.audit import AuditLog
from localwork.tools.file_source import FileToolSource
from localwork.tools.runner import ToolRunner
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.sandbox.grants import Grant
from localwork.tools.sandbox.owned import OwnedFolders
from localwork.tools.source import ToolSource
from localwork.tools.undo import undo_change

log = logging.getLogger(__name__)

FolderPicker = Callable[[], str | None]


class Folders:
    def __init__(
        self,
        settings: SettingsStore,
        paths: AppPaths,
        audit: AuditLog,
        *,
        picker: FolderPicker | None = None,  # the native dialog, in the desktop window
        session_grants: list[FolderGrant] | None = None,
        # Tools beside the file tools: fixed, or asked for at each reply (MCP servers the user
        # turns on and off while the app runs).
        other_sources: Sequence[ToolSource] | Callable[[], Sequence[ToolSource]] = (),
    ) -> None:
        self._settings = settings
        self._paths = paths
        self._audit = audit
        # Held open for the app's life: protection follows these folders if they are moved.
        self.owned = OwnedFolders(paths.owned_roots())
        self._picker = picker
        # Grants for this run only, instead of the saved ones (the command line's --grant).
        self._session_grants = session_grants
        self._other_sources = (
            other_sources if callable(other_sources) else _fixed(tuple(other_sources))
        )

    def close(self) -> None:
        self.owned.close()

    def grants(self) -> list[FolderGrant]:
        if self._session_grants is not None:
            return self._session_grants
        return self._settings.current.grants

    def listed(self) -> list[dict[str, Any]]:
        """The saved grants as a tree: each after the grant it lies in, with ``inside`` (the
        nearest enclosing grant's path) and ``depth``; the innermost grant decides its folder."""
        grants = sorted(self._settings.current.grants, key=lambda g: Path(g.path).parts)
        listed = []
        for grant in grants:
            around = [g.path for g in grants if Path(g.path) in Path(grant.path).parents]
            listed.append(
                {
                    **grant.model_dump(),
                    "exists": Path(grant.path).is_dir(),
                    "inside": max(around, key=len, default=None),
                    "depth": len(around),
                }
            )
        return listed

    def add(self, path: str, mode: Literal["ro", "rw"]) -> list[dict[str, Any]]:
        """Grant a folder (or change its mode).

        Raises:
            InvalidRequest: it is not a folder, or it holds the app's own data.
        """
        grant = self.owned.check_grant(Grant.of(path, writable=mode == "rw"))
        kept = [g for g in self._settings.current.grants if Path(g.path) != grant.root]
        self._settings.update({"grants": [g.model_dump() for g in [*kept, grant.setting()]]})
        return self.listed()

    def remove(self, path: str) -> list[dict[str, Any]]:
        grants = self._settings.current.grants
        kept = [g for g in grants if g.path != path]
        if len(kept) == len(grants):
            raise NotFound(f"{path} is not a granted folder.")
        self._settings.update({"grants": [g.model_dump() for g in kept]})
        return self.listed()

    def choose(self) -> str | None:
        if self._picker is None:
            raise InvalidRequest("There is no folder dialog here; type the folder's path.")
        return self._picker()

    def sandbox(self) -> Sandbox:
        """The grants as they are now: a change takes effect at the next tool call."""
        grants = []
        for entry in self.grants():
            try:
                grants.append(Grant.of_setting(entry))
            except InvalidRequest as error:
                log.warning("skipping a granted folder that is gone: %s", error.message)
        return Sandbox(grants, protected=self.owned)

    def tool_runner(self, other_sources: Sequence[ToolSource] | None = None) -> ToolRunner:
        """The tools of every source: the file tools (through the grants as they are at each
        call), then the other sources the app was given (or ``other_sources`` instead)."""
        files = FileToolSource(self.sandbox, self._paths.backups_dir)
        others = self._other_sources() if other_sources is None else other_sources
        return ToolRunner([files, *others], self._audit)

    def activity(self, limit: int, conversation_id: str | None = None) -> list[dict[str, Any]]:
        calls = self._audit.calls(conversation_id, newest=limit)
        changes = self._audit.changes(since_call=calls[0]["id"]) if calls else []
        for call in calls:
            call["changes"] = [c for c in changes if c["call_id"] == call["id"]]
        return list(reversed(calls))

    def undone_calls(self, conversation_id: str) -> set[int]:
        """Audit ids of this conversation's calls whose changes were all undone."""
        calls = self._audit.calls(conversation_id)
        if not calls:
            return set()
        by_call: dict[int, list[dict[str, Any]]] = {}
        for change in self._audit.changes(since_call=calls[0]["id"]):
            by_call.setdefault(change["call_id"], []).append(change)
        mine = {call["id"] for call in calls}
        return {
            call_id
            for call_id, changes in by_call.items()
            if call_id in mine and all(change["undone_at"] for change in changes)
        }

    def undo(self, change_id: int) -> dict[str, Any]:
        try:
            return undo_change(self.sandbox(), self._audit, self._paths.backups_dir, change_id)
        except SandboxDenied as denied:
            raise SandboxDenied(
                f'Undo works only inside folders granted with "Read and change": grant the '
                f"folder in Folders, then try again ({denied.message})."
            ) from None


def _fixed(sources: tuple[ToolSource, ...]) -> Callable[[], Sequence[ToolSource]]:
    return lambda: sources
