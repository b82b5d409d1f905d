"""Which paths a tool call may name, so that a small model's arguments fit by construction.

A 135M model copies the granted folder's path from the prompt and rarely adds a file name.
Constraining each path argument to what can work makes that mistake impossible: a read names
an existing file, a delete an existing entry of a read-and-change grant (never the grant
itself), a new file or folder a name that does not exist yet. New names come from the words of
the user's request ("make a folder called archive"), placed in each folder that may change.

When the request names some of the possible values, only those are possible, the first one
named first: "Move notes.txt into the projects folder" moves notes.txt, never projects.

Names are written the way the tool prompt teaches: relative to the first grant ("notes.txt",
"archive/notes.txt"), absolute for the other grants. A tool without path roles (one from
another source) is left as it is.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from typing import Any

from localwork.tools.base import PathRole, Tool
from localwork.tools.sandbox.fs import Located, Sandbox
from localwork.tools.sandbox.names import is_hidden

# Bounds that keep the grammar small and the walk quick, whatever the grants hold.
WALK_DEPTH = 3
MAX_ENTRIES = 200
MAX_WORDS = 40
MAX_NEW_NAMES = 200

NEW_ROLES = ("new", "new_place")
_QUOTED = re.compile(r"\"([^\"\n]{1,100})\"|'([^'\n]{1,100})'|`([^`\n]{1,100})`")
_EXTENSION = re.compile(r"\.\w{1,8}$")
_WORD = re.compile(r"[\w][\w.\-]*(?:/[\w.\-]+)*")


@dataclass(frozen=True)
class Entry:
    name: str  # as the model writes it
    folder: bool
    writable: bool
    grant_root: bool


@dataclass(frozen=True)
class PathChoices:
    entries: tuple[Entry, ...]
    words: tuple[str, ...]  # names the request mentions, in order
    texts: tuple[str, ...] = ()  # texts it gives for a file's content (``request_texts``)

    @classmethod
    def gather(cls, sandbox: Sandbox, request: str) -> PathChoices:
        entries: list[Entry] = []
        for index, grant in enumerate(sandbox.grants):
            root = Located(grant, ())
            entries.append(Entry(_written(root, index), True, grant.writable, True))
            for located, is_folder in sandbox.walk(grant, WALK_DEPTH, MAX_ENTRIES):
                entries.append(Entry(_written(located, index), is_folder, grant.writable, False))
        return cls(tuple(entries), request_words(request), tuple(request_texts(request)))

    def for_role(self, role: PathRole, first_path: str | None = None) -> list[str]:
        """The names an argument with this role may take (empty: the call cannot work).
        ``first_path``: the call's first path, once chosen, which a new place is for."""
        if role == "new":
            return self.new_names()
        if role == "new_place":
            return self.new_places(first_path) if first_path else self.new_names()
        if role == "file_target":
            return [*self.for_role("changeable_file"), *self.new_names()]
        chosen = {
            "file": lambda e: not e.folder,
            "folder": lambda e: e.folder,
            "entry": lambda e: True,
            "changeable_file": lambda e: e.writable and not e.folder,
            "changeable_entry": lambda e: e.writable and not e.grant_root,
        }[role]
        return [entry.name for entry in self.entries if chosen(entry)]

    def new_names(self) -> list[str]:
        """Each word of the request, in each folder that may change, where nothing is yet."""
        taken = {entry.name for entry in self.entries}
        names: list[str] = []
        for folder in (e for e in self.entries if e.folder and e.writable):
            for word in self.words:
                name = _joined(folder.name, word)
                if name not in taken and name not in names:
                    names.append(name)
                if len(names) >= MAX_NEW_NAMES:
                    return names
        return names

    def narrowed(self, role: PathRole, first_path: str | None = None) -> list[str]:
        """The values a guided call chooses among: the first existing entry the request names,
        when it names one; for a new file, the request's words that look like file names,
        when there are any; else every possible value."""
        if role not in NEW_ROLES:
            existing = self.for_role("changeable_file" if role == "file_target" else role)
            if named := self.named(existing):
                return named[:1]
            if role != "file_target":
                return existing
            files = [name for name in self.new_names() if _EXTENSION.search(name)]
            return files or self.for_role(role)
        return self.for_role(role, first_path)

    def new_places(self, moved: str) -> list[str]:
        """Where ``moved`` can go: into each folder the request names that may change (not
        itself or inside itself), else each new name the request gives, beside it."""
        name = moved.rstrip("/").rsplit("/", 1)[-1]
        folders = [e.name for e in self.entries if e.folder and e.writable]
        into = [
            _joined(folder, name)
            for folder in self.named(folders)
            if folder != moved and not folder.startswith(moved.rstrip("/") + "/")
        ]
        taken = {entry.name for entry in self.entries}
        if into := [place for place in into if place not in taken]:
            return into
        parent = moved.rstrip("/").rsplit("/", 1)[0] if "/" in moved.strip("/") else "."
        beside = [_joined(parent, word) for word in self.words]
        return [place for place in dict.fromkeys(beside) if place not in taken]

    def named(self, options: list[str]) -> list[str]:
        """The options the request names, in the order it names them: by the whole name, or
        by its last part ("plan.txt" names "projects/plan.txt")."""
        found: list[str] = []
        for word in self.words:
            exact = [option for option in options if option == word]
            by_last_part = [option for option in options if option.rsplit("/", 1)[-1] == word]
            found.extend(option for option in exact + by_last_part if option not in found)
        return found

    @functools.cached_property
    def first_named(self) -> str | None:
        """The first existing entry the request names: what a request is about (found once:
        every tool offered is checked against it)."""
        named = self.named([entry.name for entry in self.entries if not entry.grant_root])
        return named[0] if named else None

    def takes_first_named(self, tool: Tool) -> bool:
        """Whether the tool's first path can be the first entry the request names."""
        first = self.first_named
        roles = list(tool.path_roles.values())
        return first is not None and bool(roles) and first in self.for_role(roles[0])

    def fits(self, tool: Tool) -> bool:
        """Whether every path the tool needs has at least one possible value."""
        return all(self.for_role(role) for role in tool.path_roles.values())

    def constrain(self, tool: Tool) -> dict[str, Any]:
        """The tool's parameter schema with each path argument limited to its choices."""
        parameters = copy.deepcopy(tool.schema()["function"]["parameters"])
        properties = parameters.get("properties", {})
        for argument, role in tool.path_roles.items():
            options = self.for_role(role)
            if argument in properties and options:
                properties[argument] = {"type": "string", "enum": options}
        return parameters


def _joined(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder.rstrip('/')}/{name}"


def _written(located: Located, grant_index: int) -> str:
    """A location as the model is taught to write it."""
    if grant_index == 0:
        return "/".join(located.parts) or "."
    return str(located.path)


def request_texts(request: str) -> list[str]:
    """The texts a request gives for a file's content, in order: each quoted one that is not
    a file name, or else what follows its last colon ("containing: plant tomatoes")."""
    quoted = [
        text
        for match in _QUOTED.finditer(request)
        if (text := next(group for group in match.groups() if group).strip())
        and not (_EXTENSION.search(text) and " " not in text)
    ]
    if quoted:
        return quoted
    if ":" in request:
        after = request.rsplit(":", 1)[1].strip()
        if after and "/" not in after and len(after) <= 2000:
            return [after]
    return []


def request_words(request: str) -> tuple[str, ...]:
    """What in the request could be a name: quoted file names first, then each word, trimmed
    of sentence punctuation ("notes.txt." at the end of a sentence is "notes.txt")."""
    found: list[str] = []
    for match in _QUOTED.finditer(request):  # a quoted name may hold spaces: "my notes.txt"
        quoted = next(group for group in match.groups() if group)
        if _EXTENSION.search(quoted):
            found.append(quoted)
    found.extend(match.group(0).rstrip(".-") for match in _WORD.finditer(request))
    unique: list[str] = []
    for word in found:
        word = word.strip()
        visible = not any(is_hidden(char) for char in word)  # such new names are refused
        if word and visible and word not in unique and not word.startswith("/"):
            unique.append(word)
    return tuple(unique[:MAX_WORDS])
