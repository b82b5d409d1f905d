"""Where tools come from: the seam between the tool loop and whatever runs a tool.

A tool source lists its tools, may preview a call that changes something (for the approval
card), and runs a call. The runner (``runner.py``) keeps the steps every source shares:
validate the arguments against the tool's schema, wait for approval when the tool may change
something, run, and record the call in the audit log. The file tools are one source
(``file_source.py``); an MCP server is another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from localwork.tools.base import Tool


@dataclass
class SourceRun:
    """What one call did."""

    output: dict[str, Any]  # what the model is given back
    # What changed, for the audit log and undo: {"kind", "path", "other_path"?, "backup"?}.
    changes: list[dict[str, Any]] = field(default_factory=list)
    # sha256 of each changed file before and after, by path (the audit log keeps them).
    hashes: dict[str, dict[str, str | None]] = field(default_factory=dict)
    # What another program returned, for the user only (the tool card), never for the model:
    # an MCP result's content, images included ({"runs_on", "is_error", "content"}).
    shown: dict[str, Any] | None = None


# Progress of a call in flight, in words ("3 of 10: indexing"), from any thread.
ProgressNote = Callable[[str], None]


@runtime_checkable
class ToolSource(Protocol):
    """One place tools come from. Its tool names are unique within it; the runner qualifies
    them with ``name`` when two sources offer the same one."""

    name: str

    def tools(self) -> Sequence[Tool]:
        """All its tools."""
        ...

    def available(self) -> bool:
        """Whether its tools are worth offering to the model now (the file tools: while a
        folder is granted). A call of a tool that is not offered still runs, and meets the
        source's own refusal."""
        ...

    def preview(self, tool: Tool, arguments: Any) -> dict[str, Any]:
        """``{"summary": ..., "diff": ...}`` for a call of a tool that may change something,
        with ``arguments`` already validated by ``tool.validate``.

        Raises:
            LocalWorkError: the call cannot succeed; the message says why.
        """
        ...

    def run(self, tool: Tool, arguments: Any, on_progress: ProgressNote | None = None) -> SourceRun:
        """Run one validated call (approved, if the tool may change something);
        ``on_progress`` hears how far a long call has got, in words, if the source says.

        Raises:
            LocalWorkError, OSError: it failed; the runner records the failure.
        """
        ...
