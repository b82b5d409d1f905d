"""What a change will do, shown to the user before they approve it. Nothing is changed here."""

from __future__ import annotations

from typing import Any

from localwork.tools.base import ToolArguments
from localwork.tools.files import (
    EditArguments,
    FileToolContext,
    MoveArguments,
    PathArgument,
    WriteArguments,
    current_text,
    edit_preview,
    unified_diff,
)

# A longer diff is cut for the card, and the summary says so: never silently.
_PREVIEW_CHARS = 40_000


_SUMMARIES = {
    "create_directory": "Create the folder {path}",
    "delete_file": "Delete {path} (kept in LocalWork Hero's trash, so it can be restored)",
}


def change_preview(context: FileToolContext, tool: str, checked: ToolArguments) -> dict[str, Any]:
    """``{"summary": ..., "diff": ...}`` for a call that changes files.

    Raises:
        LocalWorkError: the call cannot succeed (e.g. the text to replace is not there).
    """
    if isinstance(checked, EditArguments):
        located, _, diff = edit_preview(context, checked)
        return _with_diff(f"Change part of {located.path}", diff)
    if isinstance(checked, WriteArguments):
        path, before = current_text(context, checked.path)
        what = "Create" if before is None else "Overwrite"
        return _with_diff(f"{what} {path}", unified_diff(path, before or "", checked.content))
    if isinstance(checked, MoveArguments):
        source = context.sandbox.locate(checked.source).path
        target = context.sandbox.locate(checked.destination).path
        return {"summary": f"Move {source} to {target}", "diff": None}
    path = context.sandbox.locate(checked.path).path if isinstance(checked, PathArgument) else ""
    return {"summary": _SUMMARIES.get(tool, f"{tool} {path}").format(path=path), "diff": None}


def _with_diff(summary: str, diff: str) -> dict[str, Any]:
    if len(diff) <= _PREVIEW_CHARS:
        return {"summary": summary, "diff": diff}
    return {
        "summary": f"{summary}. The change is long: the diff below shows its first "
        f"{_PREVIEW_CHARS:,} of {len(diff):,} characters",
        "diff": diff[:_PREVIEW_CHARS],
    }
