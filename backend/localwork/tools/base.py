"""Small domain objects for tools: a tool, and a call's result.

A tool comes from a tool source (``tools/source.py``): the file tools are one source, MCP
servers are others. A tool says what it is for and which arguments it takes, as a pydantic
model (the file tools) or as a JSON schema (a tool another program describes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema
from pydantic import BaseModel, ConfigDict, ValidationError

from localwork.errors import InvalidRequest
from localwork.settings import describe_validation_error

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
    (``engine/local/guided.py``)."""

    purpose: str  # completes "A request to ...", e.g. "add a line to the end of a file"
    requests: tuple[str, ...]  # example requests, each as a user would type it
    arguments: Mapping[str, Any] = field(default_factory=dict)  # what this use fixes


class ToolArguments(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    # Its arguments as a pydantic model; None when ``input_schema`` describes them instead.
    arguments: type[ToolArguments] | None
    # (context, validated arguments) -> result, for a source that runs its tools in this
    # process (the file tools); None when the source runs the call itself.
    run: Callable[[Any, Any], dict[str, Any]] | None = None
    # It may change something (files, or whatever another program's tool touches): every
    # call waits for the user's approval.
    may_change: bool = False
    path_roles: Mapping[str, PathRole] = field(default_factory=dict)  # argument -> role
    uses: tuple[Use, ...] = ()  # none: its description is its one use
    # Arguments that take, in order, the texts the request gives (quoted, or after a colon)
    # when it gives exactly that many: "Add 'water the plants' to todo.txt".
    quoted_arguments: tuple[str, ...] = ()
    # Its arguments as a JSON schema, for a tool without a pydantic model (an MCP tool).
    input_schema: Mapping[str, Any] | None = None
    # Another program that runs its calls ("the MCP server git"); None: this app runs them.
    # What such a call did cannot be undone here.
    runs_on: str | None = None

    def all_uses(self) -> tuple[Use, ...]:
        return self.uses or (Use(self.description.rstrip(".").lower(), ()),)

    def parameters(self) -> dict[str, Any]:
        """Its arguments as a JSON schema, without pydantic's titles."""
        if self.arguments is None:
            return dict(self.input_schema or {"type": "object", "properties": {}})
        parameters = self.arguments.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        return parameters

    def validate(self, arguments: Any) -> Any:
        """The arguments checked: a pydantic model's instance, or the dict itself.

        Raises:
            InvalidRequest: they do not fit; the message says how (for the model to fix).
        """
        if self.arguments is not None:
            try:
                return self.arguments.model_validate(arguments)
            except ValidationError as error:
                raise InvalidRequest(describe_validation_error(error)) from None
        if not isinstance(arguments, dict):
            raise InvalidRequest("the arguments must be a JSON object")
        try:
            jsonschema.validate(arguments, self.parameters())
        except jsonschema.ValidationError as error:
            where = ".".join(str(part) for part in error.absolute_path)
            raise InvalidRequest(f"{where}: {error.message}" if where else error.message) from None
        except jsonschema.SchemaError:
            pass  # the source's own schema is broken: the source is left to judge the call
        return arguments

    def schema(self) -> dict[str, Any]:
        """The tool as a chat template's ``tools`` entry (OpenAI function format)."""
        parameters = self.parameters()
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
    shown: dict[str, Any] | None = None  # for the user only (``SourceRun.shown``)

    def to_dict(self) -> dict[str, Any]:
        if self.ok:
            return {"tool": self.tool, "ok": True, "result": self.output}
        return {"tool": self.tool, "ok": False, "error": self.error}
