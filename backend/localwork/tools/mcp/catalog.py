"""What a server offers: each tool's name, description, argument schema and annotations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp import types as sdk


@dataclass(frozen=True)
class ToolAnnotations:
    """The server's hints about a tool (MCP ``annotations``), None where it gave none.

    Hints, not promises: any server can claim to be read-only. Approvals may use them to ask
    more often, never to ask less than the user chose.
    """

    title: str | None = None
    read_only: bool | None = None  # readOnlyHint
    destructive: bool | None = None  # destructiveHint
    idempotent: bool | None = None  # idempotentHint
    open_world: bool | None = None  # openWorldHint: reaches beyond this machine

    @property
    def is_read_only(self) -> bool:
        return self.read_only is True  # the spec's default is false

    @property
    def may_destroy(self) -> bool:
        """True unless the server says it only reads, or only adds (the spec's default)."""
        return not self.is_read_only and self.destructive is not False


@dataclass(frozen=True)
class ToolInfo:
    server: str
    name: str  # what a call names
    title: str  # for people: the tool's title, its annotations' title, or its name
    description: str
    input_schema: dict[str, Any]  # JSON Schema of the arguments (an object)
    output_schema: dict[str, Any] | None  # JSON Schema of its structured content, if declared
    annotations: ToolAnnotations


def tool_info(server: str, tool: sdk.Tool) -> ToolInfo:
    hints = tool.annotations or sdk.ToolAnnotations()
    annotations = ToolAnnotations(
        title=hints.title,
        read_only=hints.read_only_hint,
        destructive=hints.destructive_hint,
        idempotent=hints.idempotent_hint,
        open_world=hints.open_world_hint,
    )
    return ToolInfo(
        server=server,
        name=tool.name,
        title=tool.title or hints.title or tool.name,
        description=tool.description or "",
        input_schema=dict(tool.input_schema),
        output_schema=dict(tool.output_schema) if tool.output_schema is not None else None,
        annotations=annotations,
    )
