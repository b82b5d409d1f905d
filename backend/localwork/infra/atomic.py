"""Crash-safe file replacement: readers see the old content or the new, never a torn file."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def atomic_write_at(
    dir_fd: int, name: str, data: bytes, mode: int | None = None, *, replace: bool = True
) -> None:
    """Replace ``name`` in the folder ``dir_fd`` via an fsync'd temp file in that same folder.

    Working relative to an open folder keeps the write in the folder that was checked. With
    ``replace=False`` the file must not exist yet (FileExistsError), even if one appears
    while writing.
    """
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode & 0o7777
    temp = f".{name[:200]}.{uuid.uuid4().hex[:12]}.tmp"
    fd = os.open(temp, _CREATE, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        if replace:
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:  # link never replaces an existing name, rename would
            os.link(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
            os.unlink(temp, dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)  # makes the rename itself durable


def atomic_write_bytes(target: Path, data: bytes, mode: int | None = None) -> None:
    """Path form of ``atomic_write_at`` for the app's own files."""
    dir_fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        atomic_write_at(dir_fd, target.name, data, mode)
    finally:
        os.close(dir_fd)
