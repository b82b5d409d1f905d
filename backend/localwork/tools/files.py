"""The file tools. Every path goes through ``Sandbox``; nothing here opens a path by itself."""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field

from localwork.errors import PathNotFound, SandboxDenied, ToolError
from localwork.infra.atomic import atomic_write_at
from localwork.tools.base import Tool, ToolArguments, Use
from localwork.tools.sandbox.fs import (
    Located,
    Sandbox,
    check_regular,
    entry_exists,
    open_file_in,
    open_folder_in,
)
from localwork.tools.sandbox.names import check_new_name
from localwork.tools.trash import keep_backup

MAX_FILE_BYTES = 8 * 1024 * 1024  # larger files are not read (a sparse or huge file is refused)
MAX_RETURNED_CHARS = 64 * 1024  # what a read hands back to the model, at most
MAX_LIST_ENTRIES = 500
MAX_SEARCH_RESULTS = 200
SEARCH_SECONDS = 5.0


@dataclass
class FileToolContext:
    sandbox: Sandbox
    backups: Path  # app-owned folder keeping previous contents, for undo
    seen: dict[Path, str] = field(default_factory=dict)  # sha256 of files as last read
    changes: list[dict[str, Any]] = field(default_factory=list)  # for the audit log and undo
    hashes: dict[str, dict[str, str | None]] = field(default_factory=dict)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISREG(mode):
        return "file"
    return "link" if stat.S_ISLNK(mode) else "other"


def _read_fd(fd: int, info: os.stat_result, shown: Path) -> bytes:
    if info.st_size > MAX_FILE_BYTES:
        raise ToolError(
            f"{shown} is {info.st_size} bytes; files over {MAX_FILE_BYTES} are not read"
        )
    chunks, total = [], 0
    while chunk := os.read(fd, 1 << 16):
        total += len(chunk)
        if total > MAX_FILE_BYTES:
            raise ToolError(f"{shown} grew past {MAX_FILE_BYTES} bytes while being read")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(data: bytes, shown: Path) -> str:
    if b"\x00" in data:
        raise ToolError(f"{shown} is a binary file; only text files can be read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{shown} is not UTF-8 text (a binary file?); it was not read") from None


def _existing(dir_fd: int, located: Located) -> tuple[bytes, os.stat_result] | None:
    """The current content of a file in an already-open folder, or None if there is none."""
    try:
        fd = open_file_in(dir_fd, located.name)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SandboxDenied(f"cannot open {located.path}: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        check_regular(info, located.path)
        return _read_fd(fd, info, located.path), info
    finally:
        os.close(fd)


def _refuse_stale(context: FileToolContext, located: Located, current: bytes) -> None:
    seen = context.seen.get(located.path)
    if seen is not None and seen != sha256(current):
        raise ToolError(
            f"{located.path} changed on disk since you read it; read it again before changing it"
        )


def _replace_content(
    context: FileToolContext, located: Located, new: bytes, append: bool = False
) -> dict[str, Any]:
    """Write a file atomically, keeping what it held before; returns the change made.
    ``append``: ``new`` goes after what the file holds, read under the same open folder."""
    context.sandbox.require_writable(located)
    with context.sandbox.parent(located) as dir_fd:
        found = _existing(dir_fd, located)
        if append and found is not None:
            new = appended(found[0], new)
        change: dict[str, Any] = {"kind": "created", "path": str(located.path)}
        if found is not None:
            _refuse_stale(context, located, found[0])
            backup = keep_backup(context.backups, found[0], found[1].st_mode)
            change = {**change, "kind": "overwritten", "backup": backup}
        else:
            check_new_name(located)
        atomic_write_at(dir_fd, located.name, new, None if found else 0o644)
    context.seen[located.path] = sha256(new)
    context.hashes[str(located.path)] = {
        "before": sha256(found[0]) if found else None,
        "after": sha256(new),
    }
    context.changes.append(change)
    return change


# --- the tools --------------------------------------------------------------------------------
class PathArgument(ToolArguments):
    path: str = Field(description="A path inside a granted folder (absolute, or relative to it)")


class ListArguments(ToolArguments):
    path: str = Field(".", description="The folder to list; '.' is the first granted folder")


def list_directory(context: FileToolContext, args: ListArguments) -> dict[str, Any]:
    located = context.sandbox.locate(args.path)
    entries = []
    with context.sandbox.folder(located) as fd, os.scandir(fd) as listing:
        for entry in listing:
            info = entry.stat(follow_symlinks=False)
            if context.sandbox.is_protected(info):
                continue
            item: dict[str, Any] = {"name": entry.name, "type": _kind(info.st_mode)}
            if stat.S_ISREG(info.st_mode):
                item["size"] = info.st_size
            entries.append(item)
    entries.sort(key=lambda item: (item["type"] != "folder", item["name"].lower()))
    return {
        "path": str(located.path),
        "entries": entries[:MAX_LIST_ENTRIES],
        "truncated": len(entries) > MAX_LIST_ENTRIES,
    }


class ReadArguments(PathArgument):
    start_line: int | None = Field(None, ge=1, description="First line to read (1-based)")
    end_line: int | None = Field(None, ge=1, description="Last line to read (inclusive)")


def read_file(context: FileToolContext, args: ReadArguments) -> dict[str, Any]:
    located = context.sandbox.locate(args.path)
    with context.sandbox.regular_file(located) as (fd, info):
        data = _read_fd(fd, info, located.path)
    text = _decode(data, located.path)
    context.seen[located.path] = sha256(data)
    lines = text.splitlines(keepends=True)
    first = args.start_line or 1
    last = min(args.end_line or len(lines), len(lines))
    chosen = "".join(lines[first - 1 : last])
    truncated = len(chosen) > MAX_RETURNED_CHARS
    if truncated:
        chosen = chosen[:MAX_RETURNED_CHARS] + (
            f"\n[… truncated: showed {MAX_RETURNED_CHARS} of {len(chosen)} characters; "
            "read a line range to see more]"
        )
    return {
        "path": str(located.path),
        "content": chosen,
        "lines": f"{first}-{last} of {len(lines)}",
        "truncated": truncated,
        "sha256": sha256(data),
    }


def file_info(context: FileToolContext, args: PathArgument) -> dict[str, Any]:
    located = context.sandbox.locate(args.path)
    info = context.sandbox.lstat(located)
    return {
        "path": str(located.path),
        "type": _kind(info.st_mode),
        "size": info.st_size,
        "modified": datetime.fromtimestamp(info.st_mtime, UTC).isoformat(timespec="seconds"),
        "permissions": stat.filemode(info.st_mode),
        "writable_grant": located.grant.writable,
    }


class SearchArguments(ToolArguments):
    path: str = Field(".", description="The folder to search in, with its subfolders")
    name_glob: str = Field("*", description="File name pattern, e.g. '*.pdf' or 'invoice*'")
    text: str | None = Field(None, description="Only files containing this text")
    max_results: int = Field(50, ge=1, le=MAX_SEARCH_RESULTS)


def search_files(context: FileToolContext, args: SearchArguments) -> dict[str, Any]:
    located = context.sandbox.locate(args.path)
    deadline = time.monotonic() + SEARCH_SECONDS
    found: list[dict[str, Any]] = []
    state: dict[str, str | None] = {"stopped": None}

    def visit(dir_fd: int, folder: Path, depth: int) -> None:
        with os.scandir(dir_fd) as listing:
            for entry in listing:
                if len(found) >= args.max_results or time.monotonic() > deadline:
                    state["stopped"] = "results" if len(found) >= args.max_results else "time"
                    return
                info = entry.stat(follow_symlinks=False)
                if (
                    stat.S_ISDIR(info.st_mode)
                    and depth < 32
                    and not context.sandbox.is_protected(info)
                ):
                    try:
                        child = open_folder_in(dir_fd, entry.name)
                    except OSError:
                        continue
                    try:
                        visit(child, folder / entry.name, depth + 1)
                    finally:
                        os.close(child)
                elif (
                    stat.S_ISREG(info.st_mode)
                    and fnmatch.fnmatch(entry.name, args.name_glob)
                    and (args.text is None or _contains(dir_fd, entry.name, info, args.text))
                ):
                    found.append({"path": str(folder / entry.name), "size": info.st_size})

    with context.sandbox.folder(located) as fd:
        visit(fd, located.path, 0)
    result: dict[str, Any] = {"matches": found}
    if state["stopped"]:
        result["note"] = f"stopped early ({state['stopped']} limit); narrow the search"
    return result


def _contains(dir_fd: int, name: str, info: os.stat_result, text: str) -> bool:
    if info.st_size > MAX_FILE_BYTES or info.st_nlink > 1:
        return False
    try:
        fd = open_file_in(dir_fd, name)
    except OSError:
        return False
    try:
        return text.encode("utf-8") in _read_fd(fd, os.fstat(fd), Path(name))
    except ToolError:
        return False
    finally:
        os.close(fd)


class WriteArguments(PathArgument):
    content: str = Field(description="The whole new content of the file")
    append: bool = Field(False, description="Add the content at the end instead of replacing")


def appended(before: bytes, addition: bytes) -> bytes:
    """``addition`` on a line of its own after ``before``."""
    separator = b"\n" if before and not before.endswith(b"\n") else b""
    ending = b"" if addition.endswith(b"\n") else b"\n"
    return before + separator + addition + ending


def write_file(context: FileToolContext, args: WriteArguments) -> dict[str, Any]:
    located = context.sandbox.locate(args.path)
    content = args.content.encode("utf-8")
    change = _replace_content(context, located, content, append=args.append)
    return {
        "path": str(located.path),
        "created": change["kind"] == "created",
        "bytes": len(content),
        **({"appended": True} if args.append and change["kind"] != "created" else {}),
    }


class EditArguments(PathArgument):
    old_text: str = Field(min_length=1, description="Exact text to replace (must be unique)")
    new_text: str = Field(description="The text to put in its place")


def edit_preview(context: FileToolContext, args: EditArguments) -> tuple[Located, str, str]:
    """The edit's result and unified diff, computed without changing anything."""
    located = context.sandbox.locate(args.path)
    context.sandbox.require_writable(located)
    with context.sandbox.regular_file(located) as (fd, info):
        before = _decode(_read_fd(fd, info, located.path), located.path)
    count = before.count(args.old_text)
    if count == 0:
        raise ToolError(
            f"old_text was not found in {located.path}; read the file and copy the "
            "exact text to replace"
        )
    if count > 1:
        raise ToolError(
            f"old_text occurs {count} times in {located.path}; include more of the "
            "surrounding text so it is unique"
        )
    after = before.replace(args.old_text, args.new_text, 1)
    return located, after, unified_diff(located.path, before, after)


def unified_diff(path: Path, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=str(path),
            tofile=str(path),
        )
    )


def current_text(context: FileToolContext, path: str) -> tuple[Path, str | None]:
    """A file's location and its text now (None when it does not exist yet).

    Raises:
        SandboxDenied: the path may not be written (read-only grant, a folder, the grant).
    """
    located = context.sandbox.locate(path)
    context.sandbox.require_writable(located)
    with context.sandbox.parent(located) as dir_fd:
        found = _existing(dir_fd, located)
    if found is None:
        check_new_name(located)
    return located.path, (_decode(found[0], located.path) if found else None)


def edit_file(context: FileToolContext, args: EditArguments) -> dict[str, Any]:
    located, after, diff = edit_preview(context, args)
    _replace_content(context, located, after.encode("utf-8"))
    return {"path": str(located.path), "diff": diff}


def check_create_directory(context: FileToolContext, args: PathArgument) -> Located:
    """Where a new folder goes, refusing what cannot be created, without changing anything.

    Raises:
        SandboxDenied, ToolError: the folder cannot be created, or it exists already.
    """
    located = context.sandbox.locate(args.path)
    context.sandbox.require_writable(located)
    if not located.parts or _missing_folders(context, located) == []:
        raise ToolError(f"{located.path} already exists; nothing to create")
    return located


def _missing_folders(context: FileToolContext, located: Located) -> list[Located]:
    """The folders on the way to ``located`` that do not exist yet (a file there is refused)."""
    for depth in range(1, len(located.parts) + 1):
        step = Located(located.grant, located.parts[:depth])
        try:
            with context.sandbox.folder(step):
                continue
        except PathNotFound:
            missing = [
                Located(located.grant, located.parts[:n])
                for n in range(depth, len(located.parts) + 1)
            ]
            for new in missing:
                check_new_name(new)
            return missing
    return []


def create_directory(context: FileToolContext, args: PathArgument) -> dict[str, Any]:
    located = context.sandbox.locate(args.path)
    context.sandbox.require_writable(located)
    created = []
    for step in _missing_folders(context, located):
        with context.sandbox.parent(step) as parent_fd:
            os.mkdir(step.name, 0o755, dir_fd=parent_fd)
        created.append(str(step.path))
        context.changes.append({"kind": "folder", "path": str(step.path)})
    return {"path": str(located.path), "created": created}


class MoveArguments(ToolArguments):
    source: str = Field(description="The file or folder to move or rename")
    destination: str = Field(description="Its new path (must not exist yet)")


def moved_identity(info: os.stat_result) -> str:
    """A moved file or folder, told apart from one put there later (even on a reused inode:
    a file's size and mtime, which a move keeps, go with it)."""
    if stat.S_ISDIR(info.st_mode):
        return f"{info.st_dev}:{info.st_ino}"
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def check_move(context: FileToolContext, args: MoveArguments) -> tuple[Located, Located]:
    """Where a move goes, refusing what it cannot do, without changing anything.

    Raises:
        SandboxDenied, PathNotFound, ToolError: the move cannot succeed.
    """
    sandbox = context.sandbox
    source, target = _move_ends(sandbox, args)
    with sandbox.parent(source) as source_fd, sandbox.parent(target) as target_fd:
        _movable_source(context, source_fd, source)
        if entry_exists(target_fd, target.name):
            raise ToolError(f"{target.path} already exists; choose another destination")
    return source, target


def _movable_source(context: FileToolContext, source_fd: int, source: Located) -> os.stat_result:
    try:
        info = os.stat(source.name, dir_fd=source_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise PathNotFound(f"no such file or folder: {source.path}") from None
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
        raise SandboxDenied(f"{source.path} is not a regular file or folder; not moved")
    context.sandbox.refuse_app_data_holder(source_fd, source)
    if context.sandbox.is_protected(info) or (stat.S_ISREG(info.st_mode) and info.st_nlink > 1):
        raise SandboxDenied(f"{source.path} cannot be moved")
    return info


def _move_ends(sandbox: Sandbox, args: MoveArguments) -> tuple[Located, Located]:
    source, target = sandbox.locate(args.source), sandbox.locate(args.destination)
    for located in (source, target):
        sandbox.require_writable(located)
    check_new_name(target)
    return source, target


def move_file(context: FileToolContext, args: MoveArguments) -> dict[str, Any]:
    sandbox = context.sandbox
    source, target = _move_ends(sandbox, args)
    with sandbox.parent(source) as source_fd, sandbox.parent(target) as target_fd:
        info = _movable_source(context, source_fd, source)
        try:
            if stat.S_ISREG(info.st_mode):
                # link + unlink never replaces an existing destination (rename would).
                os.link(
                    source.name,
                    target.name,
                    src_dir_fd=source_fd,
                    dst_dir_fd=target_fd,
                    follow_symlinks=False,
                )
                os.unlink(source.name, dir_fd=source_fd)
            else:
                if entry_exists(target_fd, target.name):
                    raise FileExistsError
                os.rename(source.name, target.name, src_dir_fd=source_fd, dst_dir_fd=target_fd)
        except FileExistsError:
            raise ToolError(f"{target.path} already exists; choose another destination") from None
        except OSError as error:
            raise ToolError(f"could not move {source.path}: {error.strerror}") from None
    context.changes.append(
        {"kind": "moved", "path": str(source.path), "other_path": str(target.path)}
    )
    # What was moved, so that undo moves back only this very file or folder.
    context.hashes[str(target.path)] = {"identity": moved_identity(info)}
    return {"moved": str(source.path), "to": str(target.path)}


def check_delete(context: FileToolContext, args: PathArgument) -> tuple[Located, bool]:
    """What a delete would remove and whether it is a folder, without changing anything.

    Raises:
        SandboxDenied, PathNotFound, ToolError: the delete cannot succeed.
    """
    located = context.sandbox.locate(args.path)
    context.sandbox.require_writable(located)
    with context.sandbox.parent(located) as dir_fd:
        info = _deletable(context, dir_fd, located)
    return located, stat.S_ISDIR(info.st_mode)


def _deletable(context: FileToolContext, dir_fd: int, located: Located) -> os.stat_result:
    try:
        info = os.stat(located.name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise PathNotFound(f"no such file or folder: {located.path}") from None
    if context.sandbox.is_protected(info):
        raise SandboxDenied(f"{located.path} holds LocalWork Hero's own data and is off limits")
    context.sandbox.refuse_app_data_holder(dir_fd, located)
    if stat.S_ISDIR(info.st_mode):
        with context.sandbox.folder(located) as fd, os.scandir(fd) as listing:
            if next(listing, None) is not None:
                raise ToolError(_NOT_EMPTY.format(path=located.path))
    return info


_NOT_EMPTY = "{path} is a folder that is not empty; delete or move its files first"


def delete_file(context: FileToolContext, args: PathArgument) -> dict[str, Any]:
    located = context.sandbox.locate(args.path)
    context.sandbox.require_writable(located)
    with context.sandbox.parent(located) as dir_fd:
        info = _deletable(context, dir_fd, located)
        if stat.S_ISDIR(info.st_mode):
            try:
                os.rmdir(located.name, dir_fd=dir_fd)
            except OSError:
                raise ToolError(_NOT_EMPTY.format(path=located.path)) from None
            context.changes.append({"kind": "deleted_folder", "path": str(located.path)})
            return {"deleted": str(located.path), "type": "folder"}
        found = _existing(dir_fd, located)
        assert found is not None
        _refuse_stale(context, located, found[0])
        backup = keep_backup(context.backups, found[0], found[1].st_mode)
        current = os.stat(located.name, dir_fd=dir_fd, follow_symlinks=False)
        if (current.st_dev, current.st_ino) != (found[1].st_dev, found[1].st_ino):
            raise ToolError(f"{located.path} was replaced while being deleted; try again")
        os.unlink(located.name, dir_fd=dir_fd)
    context.hashes[str(located.path)] = {"before": sha256(found[0]), "after": None}
    context.changes.append({"kind": "deleted", "path": str(located.path), "backup": backup})
    return {"deleted": str(located.path), "type": "file", "restorable": True}


FILE_TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "list_directory",
            "List the files and folders in a folder.",
            ListArguments,
            list_directory,
            path_roles={"path": "folder"},
            uses=(
                Use(
                    "list what is in a folder",
                    (
                        "What's in the reports folder?",
                        "Show me my files.",
                        "List everything here.",
                        "Which files do I have in photos?",
                    ),
                ),
            ),
        ),
        Tool(
            "read_file",
            "Read a text file, whole or a range of lines. Returns its content.",
            ReadArguments,
            read_file,
            path_roles={"path": "file"},
            uses=(
                Use(
                    "read a file and answer from what it says",
                    (
                        "What does letter.txt say?",
                        "Look in budget.csv: what was the total?",
                        "Open recipe.md and tell me the first step.",
                        "Show me the contents of log.txt.",
                    ),
                ),
            ),
        ),
        Tool(
            "search_files",
            "Find files by name pattern and optionally by the text they "
            "contain, in a folder and its subfolders.",
            SearchArguments,
            search_files,
            path_roles={"path": "folder"},
            uses=(
                Use(
                    "find files by name or by the text in them",
                    (
                        "Find every file that mentions invoices.",
                        "Where are my .md files?",
                        "Search for files containing 'password'.",
                        "Which file talks about the trip?",
                    ),
                ),
            ),
        ),
        Tool(
            "file_info",
            "Size, type and modification time of a file or folder.",
            PathArgument,
            file_info,
            path_roles={"path": "entry"},
            uses=(
                Use(
                    "tell the size or date of a file",
                    (
                        "How big is photo.jpg?",
                        "When was report.doc last changed?",
                        "What size is backup.zip?",
                        "Is data a file or a folder?",
                    ),
                ),
            ),
        ),
        Tool(
            "write_file",
            "Create a file, or replace a file's whole content, or add to its end (append).",
            WriteArguments,
            write_file,
            may_change=True,
            path_roles={"path": "file_target"},
            quoted_arguments=("content",),
            uses=(
                Use(
                    "create a new file with some text",
                    (
                        "Write a file hello.txt that says hi there.",
                        "Make a new file shopping.txt with eggs and bread.",
                        "Save 'remember the keys' as keys.txt.",
                        "Create a file called readme.md with the text: my project.",
                    ),
                ),
                Use(
                    "add a line to the end of a file",
                    (
                        "Append 'call mum' to reminders.txt.",
                        "Put 'pay rent' at the end of list.txt.",
                        "Add a line saying done to log.txt.",
                        "Also write 'eggs' into shopping.txt.",
                    ),
                    {"append": True},
                ),
            ),
        ),
        Tool(
            "edit_file",
            "Replace one exact piece of text in a file with new text.",
            EditArguments,
            edit_file,
            may_change=True,
            path_roles={"path": "changeable_file"},
            quoted_arguments=("old_text", "new_text"),
            uses=(
                Use(
                    "change one piece of text in a file",
                    (
                        "In letter.txt, replace Dear Bob with Dear Rob.",
                        "Fix the typo teh in essay.txt.",
                        "Change the date in invite.txt to Monday.",
                        "Swap 'red' for 'blue' in colors.txt.",
                    ),
                ),
            ),
        ),
        Tool(
            "create_directory",
            "Create a folder (and any missing parent folders).",
            PathArgument,
            create_directory,
            may_change=True,
            path_roles={"path": "new"},
            uses=(
                Use(
                    "make a new folder",
                    (
                        "Create a directory called photos.",
                        "I need a folder for receipts.",
                        "Make a folder named 2025.",
                        "Add a new subfolder called drafts.",
                    ),
                ),
            ),
        ),
        Tool(
            "move_file",
            "Move or rename a file or folder.",
            MoveArguments,
            move_file,
            may_change=True,
            path_roles={"source": "changeable_entry", "destination": "new_place"},
            uses=(
                Use(
                    "rename or move a file",
                    (
                        "Rename a.txt to b.txt.",
                        "Put report.pdf in the old folder.",
                        "Move photo.jpg to the pictures folder.",
                        "Change the name of draft.md to final.md.",
                    ),
                ),
            ),
        ),
        Tool(
            "delete_file",
            "Delete a file (kept in LocalWork Hero's trash, restorable) or an empty folder.",
            PathArgument,
            delete_file,
            may_change=True,
            path_roles={"path": "changeable_entry"},
            uses=(
                Use(
                    "delete a file",
                    (
                        "Remove junk.txt.",
                        "Throw away the file temp.log.",
                        "Delete copy.txt, I don't need it.",
                        "Get rid of backup-old.zip.",
                    ),
                ),
            ),
        ),
    )
}
