"""Small domain objects for tools: a tool, a call's result, and the errors a model can fix."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

# What a path argument must name, so that guided calls can offer only paths that fit:
#   file / folder / entry      an existing file, folder, or either
#   changeable_file            an existing file in a read-and-change grant
#   changeable_entry           an existing file or folder there, never the grant itself
#   new                        a name that does not exist yet, in a read-and-change grant
#   file_target                a changeable file or a new name (a write creates or replaces)
#   new_place                  where the call's first path goes: into a folder the request
#                              names, or a new name beside it (a move or a rename)
PathRole = Literal[
    "file",
    "folder",
    "entry",
    "changeable_file",
    "changeable_entry",
    "new",
    "file_target",
    "new_place",
]


@dataclass(frozen=True)
class Use:
    """One kind of request a tool serves, in a user's words. A model that can rate text but
    not yet choose tools picks the use whose examples make the request likeliest
    (``chat/guided.py``)."""

    purpose: str  # completes "A request to ...", e.g. "add a line to the end of a file"
    requests: tuple[str, ...]  # example requests, each as a user would type it
    arguments: Mapping[str, Any] = field(default_factory=dict)  # what this use fixes


class ToolArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    arguments: type[ToolArguments]
    run: Callable[[Any, Any], dict[str, Any]]  # (context, validated arguments) -> result
    changes_files: bool = False
    path_roles: Mapping[str, PathRole] = field(default_factory=dict)  # argument -> role
    uses: tuple[Use, ...] = ()  # none: its description is its one use
    # Arguments that take, in order, the texts the request gives (quoted, or after a colon)
    # when it gives exactly that many: "Add 'water the plants' to todo.txt".
    quoted_arguments: tuple[str, ...] = ()

    def all_uses(self) -> tuple[Use, ...]:
        return self.uses or (Use(self.description.rstrip(".").lower(), ()),)

    def schema(self) -> dict[str, Any]:
        """The tool as a chat template's ``tools`` entry (OpenAI function format)."""
        parameters = self.arguments.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }


@dataclass
class ToolResult:
    tool: str
    ok: bool
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    audit_id: int | None = None  # its entry in the audit log

    def to_dict(self) -> dict[str, Any]:
        if self.ok:
            return {"tool": self.tool, "ok": True, "result": self.output}
        return {"tool": self.tool, "ok": False, "error": self.error}
