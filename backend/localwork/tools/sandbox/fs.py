"""The one choke point between file tools and the disk (POSIX).

How a path is decided:
1. The text is checked: not empty, no NUL byte, no over-long path or name, no Windows drive,
   UNC or stream forms; ``~`` is expanded; a relative path is taken from the first grant.
2. ``..`` is collapsed lexically, and the result must lie inside a grant by whole path
   components (``/a/bc`` is not inside ``/a/b``). When grants nest, the most specific one
   (the deepest root) decides, whatever the order they were granted in; and a folder that
   holds a read-only grant cannot be changed as a whole (moved), which would carry it out.
3. The path is then *walked* from the grant's root with file descriptors: each folder is
   opened relative to its parent with ``O_NOFOLLOW``, so no symbolic link is ever followed,
   and a link swapped in between a check and a use is refused rather than followed (the
   object checked is the object used). The grant root is checked to still be the folder that
   was granted, and the app's own folders are refused wherever they appear (by identity, see
   ``owned.py``): a grant inside them is refused, and so is moving or deleting a folder that
   holds them.
4. Files are opened the same way; only regular files are read or changed (not devices,
   FIFOs or sockets), and never a file with other hard links, which could be a door to a
   file outside the grant.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from localwork.errors import LocalWorkError, PathNotFound, SandboxDenied
from localwork.tools.sandbox.grants import Grant
from localwork.tools.sandbox.owned import OwnedFolders, identity

MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255
_WINDOWS_FORMS = re.compile(r"^([A-Za-z]:|\\\\|//\?/|\\\\\?\\)")
_FOLDER_NOT_FILE = "a folder, not a file; use list_directory to see what it holds"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def open_file_in(dir_fd: int, name: str) -> int:
    """A file in a folder the sandbox opened, for reading: never through a symlink, and never
    blocking on a FIFO. Raises OSError."""
    return os.open(name, _FILE_FLAGS, dir_fd=dir_fd)


def open_folder_in(dir_fd: int, name: str) -> int:
    """A folder in a folder the sandbox opened, never through a symlink. Raises OSError."""
    return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)


@dataclass(frozen=True)
class Located:
    grant: Grant
    parts: tuple[str, ...]  # components below the grant root

    @property
    def path(self) -> Path:
        return self.grant.root.joinpath(*self.parts)

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else self.grant.root.name

    def child(self, name: str) -> Located:
        return Located(self.grant, (*self.parts, name))


class Sandbox:
    def __init__(
        self, grants: Sequence[Grant], protected: OwnedFolders | Sequence[Path] = ()
    ) -> None:
        """``protected``: the app's own folders, held open (or their paths, opened here)."""
        self.grants = tuple(grants)
        self._owned = protected if isinstance(protected, OwnedFolders) else OwnedFolders(protected)

    # --- deciding where a path points ---------------------------------------------------------
    def locate(self, raw: object) -> Located:
        """Decide which granted location a path names.

        Raises:
            SandboxDenied: the path is malformed or outside every grant.
        """
        if not isinstance(raw, str) or not raw.strip():
            raise SandboxDenied("the path is empty: give a file or folder path")
        if "\x00" in raw:
            raise SandboxDenied("the path contains a NUL byte")
        if len(raw.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
            raise SandboxDenied(f"the path is longer than {MAX_PATH_BYTES} bytes")
        if _WINDOWS_FORMS.match(raw):
            raise SandboxDenied(f"Windows drive, UNC and device paths are not used here: {raw}")
        if not self.grants:
            raise SandboxDenied("no folder has been granted; ask the user to grant one")
        expanded = os.path.expanduser(raw) if raw.startswith("~") else raw
        candidate = Path(os.path.normpath(self.grants[0].root / expanded))
        inside = [g for g in self.grants if candidate == g.root or g.root in candidate.parents]
        if inside:
            grant = max(inside, key=lambda g: len(g.root.parts))  # the most specific decides
            parts = candidate.relative_to(grant.root).parts
            for part in parts:
                if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
                    raise SandboxDenied(f"the name {part[:40]}… is longer than 255 bytes")
            return Located(grant, parts)
        granted = ", ".join(str(g.root) for g in self.grants)
        raise SandboxDenied(f"not inside a granted folder: {raw} (granted: {granted})")

    def is_protected(self, info: os.stat_result) -> bool:
        return identity(info) in self._owned.identities

    def refuse_app_data_holder(self, dir_fd: int, located: Located) -> None:
        """Refuse to move or delete a folder that is, or holds, one of the app's folders."""
        try:
            info = os.stat(located.name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode) and identity(info) in self._owned.holders():
            raise SandboxDenied(
                f"{located.path} holds LocalWork Hero's own data; it cannot be moved or deleted"
            )

    def require_writable(self, located: Located) -> None:
        if not located.grant.writable:
            raise SandboxDenied(f"read-only grant: {located.grant.root} may be read, not changed")
        held = [g.root for g in self.grants if not g.writable and located.path in g.root.parents]
        if held:
            raise SandboxDenied(
                f"{located.path} holds the read-only grant {held[0]}; it cannot be changed whole"
            )

    # --- opening, always relative to a checked folder -------------------------------------------
    @contextlib.contextmanager
    def folder(self, located: Located, depth: int | None = None) -> Iterator[int]:
        """An fd of the folder ``located.parts[:depth]``, reached without following links."""
        parts = located.parts if depth is None else located.parts[:depth]
        fd = os.open(located.grant.root, _DIR_FLAGS)
        try:
            if identity(os.fstat(fd)) != located.grant.identity:
                raise SandboxDenied(f"the granted folder {located.grant.root} was replaced")
            if self._owned.encloses(fd):
                raise SandboxDenied(
                    f"{located.grant.root} is LocalWork Hero's own data and is off limits"
                )
            for index, name in enumerate(parts):
                here = located.grant.root.joinpath(*parts[: index + 1])
                next_fd = self._open_in(fd, name, _DIR_FLAGS, here, expect_folder=True)
                os.close(fd)
                fd = next_fd
                self._refuse_protected(fd, here)
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def parent(self, located: Located) -> Iterator[int]:
        if not located.parts:
            raise SandboxDenied(
                f"{located.path} is the granted folder itself: it can never be deleted, moved "
                "or overwritten; name a file or folder inside it"
            )
        with self.folder(located, depth=len(located.parts) - 1) as fd:
            yield fd

    @contextlib.contextmanager
    def regular_file(self, located: Located) -> Iterator[tuple[int, os.stat_result]]:
        """An fd of a regular file with no other hard links, opened without following links."""
        if not located.parts:
            raise SandboxDenied(f"{located.path} is {_FOLDER_NOT_FILE}")
        with self.parent(located) as parent_fd:
            fd = self._open_in(parent_fd, located.name, _FILE_FLAGS, located.path)
            try:
                info = os.fstat(fd)
                check_regular(info, located.path)
                yield fd, info
            finally:
                os.close(fd)

    def lstat(self, located: Located) -> os.stat_result:
        """What is at the path itself (a link is reported as a link, not followed)."""
        if not located.parts:
            with self.folder(located) as fd:
                return os.fstat(fd)
        with self.parent(located) as parent_fd:
            try:
                return os.stat(located.name, dir_fd=parent_fd, follow_symlinks=False)
            except FileNotFoundError:
                raise PathNotFound(f"no such file or folder: {located.path}") from None

    def walk(self, grant: Grant, max_depth: int, max_entries: int) -> list[tuple[Located, bool]]:
        """The regular files and folders in a grant, shallowest first, as (location,
        is_folder); links, devices and the app's own folders are left out, and so is
        anything that cannot be opened."""
        found: list[tuple[Located, bool]] = []
        level = [Located(grant, ())]
        for _ in range(max_depth):
            below: list[Located] = []
            for folder in level:
                try:
                    with self.folder(folder) as fd, os.scandir(fd) as listing:
                        for entry in sorted(listing, key=lambda item: item.name):
                            info = entry.stat(follow_symlinks=False)
                            is_folder = stat.S_ISDIR(info.st_mode)
                            if not (is_folder or stat.S_ISREG(info.st_mode)):
                                continue
                            if self.is_protected(info):
                                continue
                            found.append((folder.child(entry.name), is_folder))
                            if is_folder:
                                below.append(folder.child(entry.name))
                            if len(found) >= max_entries:
                                return found
                except (LocalWorkError, OSError):
                    continue
            level = below
        return found

    def _open_in(
        self, dir_fd: int, name: str, flags: int, shown: Path, expect_folder: bool = False
    ) -> int:
        try:
            return os.open(name, flags, dir_fd=dir_fd)
        except FileNotFoundError:
            raise PathNotFound(f"no such file or folder: {shown}") from None
        except OSError as error:
            # Say what is really there: a link opened with O_NOFOLLOW fails with ELOOP (or
            # ENOTDIR with O_DIRECTORY), a socket with ENXIO.
            raise SandboxDenied(
                _why_not_opened(dir_fd, name, shown, error, expect_folder)
            ) from None

    def _refuse_protected(self, fd: int, shown: Path) -> None:
        if self.is_protected(os.fstat(fd)):
            raise SandboxDenied(f"{shown} holds LocalWork Hero's own data and is off limits")


def _why_not_opened(
    dir_fd: int, name: str, shown: Path, error: OSError, expect_folder: bool
) -> str:
    try:
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except OSError:
        return f"cannot open {shown}: {error.strerror}"
    if stat.S_ISLNK(mode):
        return f"{shown} is a symbolic link; links are not followed, use the real path"
    if expect_folder and not stat.S_ISDIR(mode):
        return f"{shown} is not a folder"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return f"{shown} is a device, FIFO or socket; only regular files are used"
    return f"cannot open {shown}: {error.strerror}"


def entry_exists(dir_fd: int, name: str) -> bool:
    """Whether anything (a link included, not followed) has this name in an open folder."""
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def check_regular(info: os.stat_result, shown: Path) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise SandboxDenied(f"{shown} is {_FOLDER_NOT_FILE}")
    if not stat.S_ISREG(info.st_mode):
        raise SandboxDenied(f"{shown} is a device, FIFO or socket; only regular files are used")
    if info.st_nlink > 1:
        raise SandboxDenied(
            f"{shown} has other hard links (it may be a door to a file elsewhere); refused"
        )
