"""LocalWork Hero's trash: earlier contents of changed or deleted files, kept for undo.

The folder is private to the user (0700) and each copy keeps the original file's permission
bits, so a private file stays private in the trash and comes back with its own mode.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_PERMISSIONS = 0o777


def keep_backup(backups: Path, data: bytes, mode: int) -> str:
    """Keep ``data`` with the permission bits of ``mode``; returns the copy's path."""
    backups.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(backups, 0o700)  # also a folder made by an older version, 0755
    backup = backups / f"{uuid.uuid4().hex}.bak"
    fd = os.open(backup, _NEW_FILE, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        os.fchmod(handle.fileno(), mode & _PERMISSIONS)
    return str(backup)


def read_backup(backup: str) -> tuple[bytes, int]:
    """A kept copy's content and the permission bits of the file it came from."""
    fd = os.open(backup, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(), os.fstat(handle.fileno()).st_mode & _PERMISSIONS
