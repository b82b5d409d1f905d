"""Folder grants: which folders tools may reach, each read-only or read-write.

A grant has two forms: ``settings.FolderGrant`` is what is saved (a path and a mode, as the
user gave them), and ``Grant`` is that folder checked now (real path, identity). They are
turned into each other only here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from localwork.errors import InvalidRequest
from localwork.settings import FolderGrant


@dataclass(frozen=True)
class Grant:
    root: Path  # absolute and real (symlinks resolved when the grant is made)
    writable: bool
    identity: tuple[int, int]  # (st_dev, st_ino): the walk checks it is still this folder

    @classmethod
    def of(cls, folder: str | os.PathLike[str], writable: bool) -> Grant:
        """Raises: InvalidRequest: the folder does not exist or is not a folder."""
        root = Path(folder).expanduser()
        try:
            root = root.resolve(strict=True)
            info = root.stat()
        except OSError as error:
            raise InvalidRequest(f"cannot grant {folder}: {error.strerror}") from None
        if not root.is_dir():
            raise InvalidRequest(f"cannot grant {folder}: it is not a folder")
        return cls(root=root, writable=writable, identity=(info.st_dev, info.st_ino))

    @classmethod
    def of_setting(cls, saved: FolderGrant) -> Grant:
        """Raises: InvalidRequest: the folder is gone or is no longer a folder."""
        return cls.of(saved.path, writable=saved.mode == "rw")

    @property
    def mode(self) -> Literal["ro", "rw"]:
        return "rw" if self.writable else "ro"

    def setting(self) -> FolderGrant:
        """The form kept in settings: the real path, as the grant was checked."""
        return FolderGrant(path=str(self.root), mode=self.mode)


Scope = frozenset[tuple[Path, tuple[int, int]]]


def change_scope(grants: Iterable[Grant]) -> Scope:
    """The folders these grants let a tool change (each root with its identity)."""
    return frozenset((grant.root, grant.identity) for grant in grants if grant.writable)


def parse_grant(spec: str) -> Grant:
    """``DIR``, ``DIR:ro`` or ``DIR:rw`` (read-only unless ``:rw`` is given)."""
    folder, _, mode = spec.rpartition(":")
    if mode in ("ro", "rw") and folder:
        return Grant.of(folder, writable=mode == "rw")
    # "DIR:rx" is a mistyped mode, not a folder called "DIR:rx" (unless one exists).
    if folder and not {"/", "\\"} & set(mode) and not Path(spec).expanduser().exists():
        raise InvalidRequest(
            f"cannot grant {spec}: unknown mode {mode!r} (use DIR, DIR:ro or DIR:rw)"
        )
    return Grant.of(spec, writable=False)
