"""One plain sentence saying what a tool call did, for the Activity list and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MAX_CHARS = 500


def _count(items: Any, one: str, many: str) -> str:
    number = len(items) if isinstance(items, list) else 0
    return f"{number} {one if number == 1 else many}"


def _listing(out: dict[str, Any]) -> str:
    entries = out.get("entries") or []
    folders = [e for e in entries if isinstance(e, dict) and e.get("type") == "folder"]
    files = [e for e in entries if isinstance(e, dict) and e.get("type") != "folder"]
    more = " (the first ones shown)" if out.get("truncated") else ""
    return (
        f"Listed {out.get('path', 'a folder')}: {_count(folders, 'folder', 'folders')}, "
        f"{_count(files, 'file', 'files')}{more}"
    )


def _read(out: dict[str, Any]) -> str:
    lines = f" (lines {out['lines']})" if out.get("lines") else ""
    return f"Read {out.get('path', 'a file')}{lines}"


def _search(out: dict[str, Any]) -> str:
    found = f"Found {_count(out.get('matches'), 'matching file', 'matching files')}"
    return f"{found}; {out['note']}" if out.get("note") else found


def _info(out: dict[str, Any]) -> str:
    size = f", {out['size']:,} bytes" if isinstance(out.get("size"), int) else ""
    return f"Looked at {out.get('path', 'a path')}: {out.get('type', 'unknown')}{size}"


def _write(out: dict[str, Any]) -> str:
    size = f"{out['bytes']:,} bytes" if isinstance(out.get("bytes"), int) else ""
    if out.get("appended"):
        return f"Added {size or 'text'} to the end of {out.get('path', 'a file')}"
    verb = "Created" if out.get("created") else "Replaced the content of"
    return f"{verb} {out.get('path', 'a file')}" + (f" ({size})" if size else "")


def _folder(out: dict[str, Any]) -> str:
    if out.get("created"):  # the folders made, parents included
        return f"Created folder {out.get('path', '')}"
    return f"Folder {out.get('path', '')} was already there"


def _delete(out: dict[str, Any]) -> str:
    kind = "folder" if out.get("type") == "folder" else "file"
    kept = " (kept for undo)" if out.get("restorable") else ""
    return f"Deleted {kind} {out.get('deleted', '')}{kept}"


_SENTENCES: dict[str, Callable[[dict[str, Any]], str]] = {
    "list_directory": _listing,
    "read_file": _read,
    "search_files": _search,
    "file_info": _info,
    "write_file": _write,
    "edit_file": lambda out: f"Edited {out.get('path', 'a file')}",
    "create_directory": _folder,
    "move_file": lambda out: f"Moved {out.get('moved', '?')} to {out.get('to', '?')}",
    "delete_file": _delete,
}


def plain_summary(tool: str, output: dict[str, Any]) -> str:
    """What the call did, e.g. "Listed /home/ana/Notes: 2 folders, 5 files"."""
    sentence = _SENTENCES.get(tool)
    if sentence is not None:
        try:
            return sentence(output)[:_MAX_CHARS]
        except (KeyError, TypeError, ValueError):
            pass  # a result of another shape: the generic wording below still says something
    shown = ", ".join(
        f"{key}: {len(value) if isinstance(value, list | dict) else value}"
        for key, value in output.items()
        if key not in ("content", "diff")
    )
    return (f"{tool}: {shown}" if shown else f"{tool}: done")[:_MAX_CHARS]
