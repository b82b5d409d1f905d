"""Undoing a change a tool made, through the same sandbox (so only inside writable grants)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from localwork.atomic import atomic_write_at
from localwork.errors import NotFound
from localwork.sandbox.fs import Sandbox, entry_exists
from localwork.tools.audit import AuditLog
from localwork.tools.base import ToolError


def undo_change(sandbox: Sandbox, audit: AuditLog, change_id: int) -> dict[str, Any]:
    """Put things back as they were before one change.

    Raises:
        NotFound: no such change, or it was undone already.
        ToolError, SandboxDenied: it cannot be undone safely (the message says why).
    """
    change = audit.change(change_id)
    if change is None or change["undone_at"] is not None:
        raise NotFound(f"There is no change {change_id} left to undo.")
    located = sandbox.locate(change["path"])
    sandbox.require_writable(located)
    kind = change["kind"]
    if kind in ("overwritten", "deleted"):
        previous = Path(change["backup"]).read_bytes()
        with sandbox.parent(located) as dir_fd:
            if kind == "deleted" and entry_exists(dir_fd, located.name):
                raise ToolError(f"{located.path} exists again; move it away before undoing")
            atomic_write_at(
                dir_fd, located.name, previous, None if kind == "overwritten" else 0o644
            )
    elif kind == "created":
        with sandbox.parent(located) as dir_fd:
            os.unlink(located.name, dir_fd=dir_fd)
    elif kind == "moved":
        moved_to = sandbox.locate(change["other_path"])
        sandbox.require_writable(moved_to)
        with sandbox.parent(moved_to) as from_fd, sandbox.parent(located) as to_fd:
            if entry_exists(to_fd, located.name):
                raise ToolError(f"{located.path} exists again; move it away before undoing")
            os.rename(moved_to.name, located.name, src_dir_fd=from_fd, dst_dir_fd=to_fd)
    elif kind in ("folder", "deleted_folder"):
        with sandbox.parent(located) as dir_fd:
            if kind == "folder":
                try:
                    os.rmdir(located.name, dir_fd=dir_fd)
                except OSError:
                    raise ToolError(f"{located.path} is not empty any more; not removed") from None
            else:
                os.mkdir(located.name, 0o755, dir_fd=dir_fd)
    else:
        raise ToolError(f"changes of kind {kind!r} cannot be undone")
    audit.mark_undone(change_id)
    return {"undone": change_id, "kind": kind, "path": change["path"]}
