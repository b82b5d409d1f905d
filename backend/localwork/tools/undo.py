"""Undoing a change a tool made, through the same sandbox (so only inside writable grants).

An undo never destroys work: it runs only when the file is exactly what the change left (its
sha256 against the ``after`` hash in the audit log) and no newer change to it stands; what it
replaces or removes goes to the trash first; and it is a change in the audit log like any
other (so it can be undone in turn), a refused undo a refused call.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from localwork.errors import LocalWorkError, NotFound, ToolError
from localwork.infra.atomic import atomic_write_at
from localwork.tools.audit import AuditLog
from localwork.tools.files import _existing, moved_identity, sha256
from localwork.tools.sandbox.fs import Located, Sandbox, entry_exists
from localwork.tools.trash import keep_backup, read_backup

UNDO_TOOL = "undo"


def undo_change(sandbox: Sandbox, audit: AuditLog, backups: Path, change_id: int) -> dict[str, Any]:
    """Put things back as they were before one change.

    Returns ``{"undone", "kind", "path", "change"}``; ``change`` is the undo's own change.

    Raises:
        NotFound: no such change, or it was undone already.
        ToolError, SandboxDenied: it cannot be undone safely (the message says why).
    """
    change = audit.change(change_id)
    if change is None or change["undone_at"] is not None:
        raise NotFound(f"There is no change {change_id} left to undo.")
    record = {
        "conversation_id": change["conversation_id"],  # shown in that chat's activity too
        "tool": UNDO_TOOL,
        "arguments": {"change_id": change_id},
        "decision": "approved",
    }
    try:
        reverse, hashes = _undo(sandbox, audit, backups, change)
    except (LocalWorkError, OSError) as error:
        why = error.message if isinstance(error, LocalWorkError) else str(error.strerror)
        audit.record(**record, ok=False, summary=why, hashes={}, changes=[])
        raise
    call_id = audit.record(
        **record,
        ok=True,
        summary=f"undid change {change_id} ({change['kind']} {change['path']})",
        hashes=hashes,
        changes=[reverse],
        undoes=change_id,
    )
    (made,) = audit.changes(call_id)
    return {
        "undone": change_id,
        "kind": change["kind"],
        "path": change["path"],
        "change": made["id"],
    }


def _undo(
    sandbox: Sandbox, audit: AuditLog, backups: Path, change: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Reverse one change; returns the reverse change and its hashes, for the audit log."""
    located = sandbox.locate(change["path"])
    sandbox.require_writable(located)
    newer = audit.newer_changes(change)
    if newer:
        raise ToolError(
            f"a newer change to {located.path} (change {newer[-1]['id']}) still stands; "
            "undo the newer changes first"
        )
    kind, path = change["kind"], change["path"]
    hashes = change["hashes"].get(path, {})
    if kind in ("overwritten", "created"):
        return _undo_write(sandbox, located, backups, change, hashes)
    if kind == "deleted":
        previous, mode = _trash_copy(change, hashes)
        with sandbox.parent(located) as dir_fd:
            try:
                atomic_write_at(dir_fd, located.name, previous, mode, replace=False)
            except FileExistsError:
                raise ToolError(
                    f"{located.path} exists again; move it away before undoing"
                ) from None
        return {"kind": "created", "path": path}, {
            path: {"before": None, "after": sha256(previous)}
        }
    if kind == "moved":
        moved_to = sandbox.locate(change["other_path"])
        sandbox.require_writable(moved_to)
        with sandbox.parent(moved_to) as from_fd, sandbox.parent(located) as to_fd:
            if entry_exists(to_fd, located.name):
                raise ToolError(f"{located.path} exists again; move it away before undoing")
            sandbox.refuse_app_data_holder(from_fd, moved_to)
            _refuse_replaced(from_fd, moved_to, change["hashes"].get(change["other_path"], {}))
            os.rename(moved_to.name, located.name, src_dir_fd=from_fd, dst_dir_fd=to_fd)
        return {"kind": "moved", "path": change["other_path"], "other_path": path}, {}
    if kind in ("folder", "deleted_folder"):
        with sandbox.parent(located) as dir_fd:
            if kind == "folder":
                try:
                    os.rmdir(located.name, dir_fd=dir_fd)
                except OSError:
                    raise ToolError(f"{located.path} is not empty any more; not removed") from None
                return {"kind": "deleted_folder", "path": path}, {}
            try:
                os.mkdir(located.name, 0o755, dir_fd=dir_fd)
            except FileExistsError:
                raise ToolError(
                    f"{located.path} exists again; move it away before undoing"
                ) from None
            return {"kind": "folder", "path": path}, {}
    raise ToolError(f"changes of kind {kind!r} cannot be undone")


def _undo_write(
    sandbox: Sandbox,
    located: Located,
    backups: Path,
    change: dict[str, Any],
    hashes: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Undo an overwrite (put the earlier content back) or a create (delete the file)."""
    path = change["path"]
    previous = _trash_copy(change, hashes) if change["kind"] == "overwritten" else None
    with sandbox.parent(located) as dir_fd:
        found = _existing(dir_fd, located)
        if found is None or hashes.get("after") is None or sha256(found[0]) != hashes["after"]:
            state = "is gone" if found is None else "changed"
            raise ToolError(
                f"{located.path} {state} since this change was made; undoing it would lose "
                "that work, so nothing was done"
            )
        current, info = found
        kept = keep_backup(backups, current, info.st_mode)
        now = os.stat(located.name, dir_fd=dir_fd, follow_symlinks=False)
        if (now.st_dev, now.st_ino, now.st_mtime_ns) != (
            info.st_dev,
            info.st_ino,
            info.st_mtime_ns,
        ):
            raise ToolError(f"{located.path} changed while being undone; nothing was done")
        if previous is None:
            os.unlink(located.name, dir_fd=dir_fd)
            reverse = {"kind": "deleted", "path": path, "backup": kept}
            return reverse, {path: {"before": sha256(current), "after": None}}
        atomic_write_at(dir_fd, located.name, previous[0], previous[1])
    reverse = {"kind": "overwritten", "path": path, "backup": kept}
    return reverse, {path: {"before": sha256(current), "after": sha256(previous[0])}}


def _refuse_replaced(dir_fd: int, located: Located, recorded: dict[str, Any]) -> None:
    """Refuse to move back anything but the very file or folder the move left there."""
    try:
        info = os.stat(located.name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise ToolError(f"{located.path} is gone since it was moved; nothing was done") from None
    expected = recorded.get("identity")
    if expected is not None and expected != moved_identity(info):
        raise ToolError(
            f"{located.path} was replaced since it was moved there; undoing would move "
            "another file, so nothing was done"
        )


def _trash_copy(change: dict[str, Any], hashes: dict[str, Any]) -> tuple[bytes, int]:
    """The content a change replaced, checked against the hash the audit log has for it."""
    try:
        data, mode = read_backup(change["backup"])
    except (OSError, TypeError):
        raise ToolError(
            f"the trash copy of {change['path']} is gone; it cannot be restored"
        ) from None
    if hashes.get("before") is not None and sha256(data) != hashes["before"]:
        raise ToolError(
            f"the trash copy of {change['path']} is not what the change replaced; not restored"
        )
    return data, mode
