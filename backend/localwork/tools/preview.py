"""What a change will do, shown to the user before they approve it. Nothing is changed here."""

from __future__ import annotations

import stat
from typing import Any

from localwork.errors import PathNotFound
from localwork.tools.base import ToolArguments
from localwork.tools.files import (
    MAX_FILE_BYTES,
    EditArguments,
    FileToolContext,
    MoveArguments,
    PathArgument,
    WriteArguments,
    _read_fd,
    appended,
    check_create_directory,
    check_delete,
    check_move,
    current_text,
    edit_preview,
    sha256,
    unified_diff,
)

# A longer diff is cut for the card, and the summary says so: never silently. A cut diff may
# show only removed lines, so the card then also gets the start and size of what is written.
_PREVIEW_CHARS = 40_000
_CONTENT_START_CHARS = 4_000


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
        return _with_diff(f"Change part of {located.path}", diff, checked.new_text)
    if isinstance(checked, WriteArguments):
        path, before = current_text(context, checked.path)
        after = checked.content
        if checked.append and before is not None:
            after = appended(before.encode("utf-8"), after.encode("utf-8")).decode("utf-8")
        what = "Create" if before is None else "Add to" if checked.append else "Overwrite"
        diff = unified_diff(path, before or "", after)
        return _with_diff(f"{what} {path}", diff, checked.content)
    if isinstance(checked, MoveArguments):
        source, target = check_move(context, checked)
        fingerprint = _fingerprint(context, checked.source)
        summary = f"Move {source.path} to {target.path}"
        return {"summary": summary, "diff": None, "fingerprint": fingerprint}
    if tool == "delete_file" and isinstance(checked, PathArgument):
        located, is_folder = check_delete(context, checked)
        what = "the empty folder " if is_folder else ""
        summary = _SUMMARIES[tool].format(path=f"{what}{located.path}")
        return {
            "summary": summary,
            "diff": None,
            "fingerprint": _fingerprint(context, checked.path),
        }
    if tool == "create_directory" and isinstance(checked, PathArgument):
        located = check_create_directory(context, checked)
        return {"summary": _SUMMARIES[tool].format(path=located.path), "diff": None}
    shown = ""
    if isinstance(checked, PathArgument):
        shown = str(context.sandbox.locate(checked.path).path)
    return {"summary": f"{tool} {shown}", "diff": None}


def _fingerprint(context: FileToolContext, path: str) -> str | None:
    """Which file a delete or move is approved for: its sha256 (a folder's or a huge file's
    identity and size), so a file replaced while the card waits no longer matches the preview
    the approval is checked against."""
    located = context.sandbox.locate(path)
    try:
        info = context.sandbox.lstat(located)
    except PathNotFound:
        return None  # the call will say so itself
    if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES:
        with context.sandbox.regular_file(located) as (fd, opened):
            return "sha256:" + sha256(_read_fd(fd, opened, located.path))
    return f"identity:{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def _with_diff(summary: str, diff: str, written: str) -> dict[str, Any]:
    """``written``: the text the call puts in (a file's new content, or an edit's new text)."""
    if len(diff) <= _PREVIEW_CHARS:
        return {"summary": summary, "diff": diff}
    return {
        "summary": f"{summary}. The change is long: the diff below shows its first "
        f"{_PREVIEW_CHARS:,} of {len(diff):,} characters",
        "diff": diff[:_PREVIEW_CHARS],
        "content": {
            "start": written[:_CONTENT_START_CHARS],
            "chars": len(written),
            "lines": len(written.splitlines()),
        },
    }
