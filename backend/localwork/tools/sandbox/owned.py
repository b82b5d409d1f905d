"""The app's own folders (data, config, logs), protected by identity rather than by path.

Each folder is held open, so the protection follows it wherever it goes: if the folder that
holds it is renamed, the open folder is still the same one, and the folders above it are
found from it as they are now (``..`` of the open folder), never from paths that existed at
start. A folder that is one of them, or holds one, cannot be moved or deleted by a tool; a
folder inside one of them cannot be granted.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable
from pathlib import Path

from localwork.errors import InvalidRequest
from localwork.infra.paths import AppPaths
from localwork.tools.sandbox.grants import Grant, parse_grant

_OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_MAX_DEPTH = 1000  # "../" repeated stays under the 4096-byte path limit

Identity = tuple[int, int]


def identity(info: os.stat_result) -> Identity:
    return (info.st_dev, info.st_ino)


def _upwards(fd: int) -> list[Identity]:
    """The open folder and every folder above it, up to ``/``, as they are now."""
    found = [identity(os.fstat(fd))]
    for depth in range(1, _MAX_DEPTH):
        try:
            above = identity(os.stat("/".join([".."] * depth), dir_fd=fd))
        except OSError:  # removed, or a folder above that may not be searched
            break
        if above == found[-1]:  # the parent of / is / itself
            break
        found.append(above)
    return found


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


class OwnedFolders:
    def __init__(self, folders: Iterable[Path]) -> None:
        self._fds: list[int] = []
        for folder in folders:
            try:
                self._fds.append(os.open(folder, _OPEN_FOLDER))
            except FileNotFoundError:  # not made yet: nothing in it to protect
                continue
        self.identities = frozenset(identity(os.fstat(fd)) for fd in self._fds)
        self._closer = weakref.finalize(self, _close_all, list(self._fds))

    def close(self) -> None:
        self._closer()

    def holders(self) -> frozenset[Identity]:
        """The owned folders and every folder that holds one of them, wherever they are now."""
        return frozenset(found for fd in self._fds for found in _upwards(fd))

    def encloses(self, fd: int) -> bool:
        """Whether the open folder is an owned folder or lies inside one."""
        return not self.identities.isdisjoint(_upwards(fd))

    def check_grant(self, grant: Grant) -> Grant:
        """The grant, if it is not an owned folder nor inside one.

        Raises:
            InvalidRequest: it is, or its folder cannot be opened.
        """
        try:
            fd = os.open(grant.root, _OPEN_FOLDER | os.O_NOFOLLOW)
        except OSError as error:
            raise InvalidRequest(f"cannot grant {grant.root}: {error.strerror}") from None
        try:
            inside = self.encloses(fd)
        finally:
            os.close(fd)
        if inside:
            raise InvalidRequest(
                f"{grant.root} holds LocalWork Hero's own data and cannot be granted"
            )
        return grant


def checked_grants(specs: Iterable[str], paths: AppPaths) -> list[Grant]:
    """The command line's ``--grant`` specs, refused like a saved grant would be.

    Raises:
        InvalidRequest: a folder does not exist, or it is one of the app's folders or inside one.
    """
    owned = OwnedFolders(paths.owned_roots())
    try:
        return [owned.check_grant(parse_grant(spec)) for spec in specs]
    finally:
        owned.close()
