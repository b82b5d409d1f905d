"""One MCP server as a tool source (``tools/source.py``): its tools beside the file tools,
through the same runner, approvals and audit log.

Every call of an MCP tool waits for the user's approval: a server's ``readOnlyHint`` is a
hint from a program the user did not write, and the MCP spec asks that a human can deny any
call. Its result reaches the model as text; the server's own failure (``isError``) is
reported as the server's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from localwork.errors import LocalWorkError, ToolError
from localwork.tools.base import Tool
from localwork.tools.mcp.manager import McpServerManager
from localwork.tools.mcp.results import ResourceLink, TextContent
from localwork.tools.source import SourceRun


class McpToolSource:
    def __init__(self, manager: McpServerManager, server: str) -> None:
        self.name = server
        self._manager = manager

    def tools(self) -> Sequence[Tool]:
        state = self._manager.state(self.name)
        return tuple(
            Tool(
                info.name,
                info.description or info.title,
                None,
                may_change=True,
                input_schema=info.input_schema,
            )
            for info in state.tools
        )

    def available(self) -> bool:
        """Ready, after starting the server on first use; a server that fails to start is
        not offered (its state says why)."""
        try:
            return self._manager.start(self.name).status == "ready"
        except LocalWorkError:
            return False

    def preview(self, tool: Tool, arguments: Any) -> dict[str, Any]:
        return {"summary": f"Call {tool.name} on the MCP server {self.name}", "diff": None}

    def run(self, tool: Tool, arguments: Any) -> SourceRun:
        result = self._manager.call_tool(self.name, tool.name, arguments)
        text = result.text()
        if result.is_error:
            raise ToolError(f"the MCP server {self.name} says: {text or 'the tool failed'}")
        output: dict[str, Any] = {"text": text}
        if result.structured is not None:
            output["structured"] = result.structured
        links = [part.uri for part in result.content if isinstance(part, ResourceLink)]
        if links:
            output["links"] = links
        others = [
            type(part).__name__
            for part in result.content
            if not isinstance(part, (TextContent, ResourceLink))
        ]
        if others:
            output["not_shown_to_the_model"] = others  # images, audio, binary resources
        return SourceRun(output)
