"""Which paths a tool call may name, so that a small model's arguments fit by construction.

A 135M model copies the granted folder's path from the prompt and rarely adds a file name.
Constraining each path argument to what can work makes that mistake impossible: a read names
an existing file, a delete an existing entry of a read-and-change grant (never the grant
itself), a new file or folder a name that does not exist yet. New names come from the words of
the user's request ("make a folder called archive"), placed in each folder that may change.

Names are written the way the tool prompt teaches: relative to the first grant ("notes.txt",
"archive/notes.txt"), absolute for the other grants. A tool without path roles (one from
another source) is left as it is.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from localwork.sandbox.fs import Located, Sandbox
from localwork.sandbox.names import is_hidden
from localwork.tools.base import PathRole, Tool

# Bounds that keep the grammar small and the walk quick, whatever the grants hold.
WALK_DEPTH = 3
MAX_ENTRIES = 200
MAX_WORDS = 40
MAX_NEW_NAMES = 200

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

    @classmethod
    def gather(cls, sandbox: Sandbox, request: str) -> PathChoices:
        entries: list[Entry] = []
        for index, grant in enumerate(sandbox.grants):
            root = Located(grant, ())
            entries.append(Entry(_written(root, index), True, grant.writable, True))
            for located, is_folder in sandbox.walk(grant, WALK_DEPTH, MAX_ENTRIES):
                entries.append(Entry(_written(located, index), is_folder, grant.writable, False))
        return cls(tuple(entries), request_words(request))

    def for_role(self, role: PathRole) -> list[str]:
        """The names an argument with this role may take (empty: the call cannot work)."""
        if role == "new":
            return self.new_names()
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
                name = word if folder.name == "." else f"{folder.name.rstrip('/')}/{word}"
                if name not in taken and name not in names:
                    names.append(name)
                if len(names) >= MAX_NEW_NAMES:
                    return names
        return names

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


def _written(located: Located, grant_index: int) -> str:
    """A location as the model is taught to write it."""
    if grant_index == 0:
        return "/".join(located.parts) or "."
    return str(located.path)


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
