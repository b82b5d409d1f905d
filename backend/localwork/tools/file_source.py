"""The file tools as a tool source: the nine tools, through the sandbox of the folders the
user granted, with previews, backups for undo, and the hashes the audit log keeps."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from localwork.tools.base import Tool
from localwork.tools.files import FILE_TOOLS, FileToolContext
from localwork.tools.preview import change_preview
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.source import ProgressNote, SourceRun

# The sandbox as it is now: a grant the user adds or removes counts at the next call.
SandboxProvider = Callable[[], Sandbox]


class FileToolSource:
    name = "files"

    def __init__(
        self,
        sandbox: Sandbox | SandboxProvider,
        backups: Path,
        tools: Mapping[str, Tool] = FILE_TOOLS,
    ) -> None:
        self._current = sandbox if callable(sandbox) else (lambda: sandbox)
        self._tools = tools
        # One context for the source's life: which file contents the model has read is kept
        # from call to call (a write checks the file did not change since it was read).
        self._context = FileToolContext(sandbox=self._current(), backups=backups)

    def tools(self) -> Sequence[Tool]:
        return tuple(self._tools.values())

    def available(self) -> bool:
        return bool(self._refreshed().sandbox.grants)

    def preview(self, tool: Tool, arguments: Any) -> dict[str, Any]:
        return change_preview(self._refreshed(), tool.name, arguments)

    def run(self, tool: Tool, arguments: Any, on_progress: ProgressNote | None = None) -> SourceRun:
        assert tool.run is not None  # every file tool runs in this process
        context = self._refreshed()
        context.changes.clear()  # collected afresh for each call
        context.hashes.clear()
        output = tool.run(context, arguments)
        return SourceRun(output, list(context.changes), dict(context.hashes))

    def _refreshed(self) -> FileToolContext:
        self._context.sandbox = self._current()
        return self._context
