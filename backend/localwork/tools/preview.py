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
    check_create_directory,
    check_delete,
    check_move,
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
        source, target = check_move(context, checked)
        return {"summary": f"Move {source.path} to {target.path}", "diff": None}
    if tool == "delete_file" and isinstance(checked, PathArgument):
        located, is_folder = check_delete(context, checked)
        what = "the empty folder " if is_folder else ""
        return {"summary": _SUMMARIES[tool].format(path=f"{what}{located.path}"), "diff": None}
    if tool == "create_directory" and isinstance(checked, PathArgument):
        located = check_create_directory(context, checked)
        return {"summary": _SUMMARIES[tool].format(path=located.path), "diff": None}
    path = context.sandbox.locate(checked.path).path if isinstance(checked, PathArgument) else ""
    return {"summary": f"{tool} {path}", "diff": None}


def _with_diff(summary: str, diff: str) -> dict[str, Any]:
    if len(diff) <= _PREVIEW_CHARS:
        return {"summary": summary, "diff": diff}
    return {
        "summary": f"{summary}. The change is long: the diff below shows its first "
        f"{_PREVIEW_CHARS:,} of {len(diff):,} characters",
        "diff": diff[:_PREVIEW_CHARS],
    }
