"""One MCP server as a tool source (``tools/source.py``): its tools beside the file tools,
through the same runner, approvals and audit log.

Each tool has a policy (``store.py``): "off" is not offered, "allow" runs without asking,
"ask" waits for the user's approval. Without a policy every tool asks: a server's
``readOnlyHint`` is a hint from a program the user did not write, and the MCP spec asks that
a human can deny any call (the app's store lets the hint pre-select "allow" until the user
chooses). Its result reaches the model as text; the server's own failure (``isError``) is
reported as the server's. What a call did cannot be undone here (``Tool.runs_on``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from localwork.errors import LocalWorkError, ToolError
from localwork.tools.base import Tool
from localwork.tools.mcp.catalog import ToolInfo
from localwork.tools.mcp.connection import Progress
from localwork.tools.mcp.manager import McpServerManager
from localwork.tools.mcp.results import (
    AudioContent,
    CallResult,
    Content,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
)
from localwork.tools.source import ProgressNote, SourceRun

# A tool's policy, as ``store.ToolPolicy`` spells it.
PolicyOf = Callable[[ToolInfo], Literal["ask", "allow", "off"]]


def _always_ask(_tool: ToolInfo) -> Literal["ask"]:
    return "ask"


class McpToolSource:
    def __init__(
        self,
        manager: McpServerManager,
        server: str,
        policy: PolicyOf | None = None,
        *,
        start: bool = True,
    ) -> None:
        self.name = server
        self._manager = manager
        self._policy = policy or _always_ask
        self._start = start  # False: only a server that is ready already is available

    def tools(self) -> Sequence[Tool]:
        """Its tools but those turned off; an allowed one needs no approval."""
        state = self._manager.state(self.name)
        tools = []
        for info in state.tools:
            policy = self._policy(info)
            if policy == "off":
                continue
            tools.append(
                Tool(
                    info.name,
                    info.description or info.title,
                    None,
                    may_change=policy != "allow",
                    input_schema=info.input_schema,
                    runs_on=f"the MCP server {self.name}",
                )
            )
        return tuple(tools)

    def available(self) -> bool:
        """Ready, after starting the server on first use; a server that fails to start is
        not offered (its state says why). Without ``start``: whether it is ready now."""
        if not self._start:
            return self._manager.state(self.name).status == "ready"
        try:
            return self._manager.start(self.name).status == "ready"
        except LocalWorkError:
            return False

    def preview(self, tool: Tool, arguments: Any) -> dict[str, Any]:
        return {"summary": f"Call {tool.name} on the MCP server {self.name}", "diff": None}

    def run(self, tool: Tool, arguments: Any, on_progress: ProgressNote | None = None) -> SourceRun:
        heard = None if on_progress is None else _in_words(on_progress)
        result = self._manager.call_tool(self.name, tool.name, arguments, on_progress=heard)
        text = result.text()
        shown = self._shown(result)
        if result.is_error:
            raise ToolError(
                f"the MCP server {self.name} says: {text or 'the tool failed'}", shown=shown
            )
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
        return SourceRun(output, shown=shown)

    def _shown(self, result: CallResult) -> dict[str, Any]:
        """The result for the user's card: every part in order, images as the base64 the
        manager kept (size-capped in ``results.py``); audio is named, not carried."""
        return {
            "runs_on": f"the MCP server {self.name}",
            "is_error": result.is_error,
            "content": [_shown_part(part) for part in result.content],
            "structured": result.structured,
        }


def _shown_part(part: Content) -> dict[str, Any]:
    if isinstance(part, TextContent):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImageContent):
        return {"type": "image", "mime_type": part.mime_type, "data": part.data, "size": part.size}
    if isinstance(part, AudioContent):
        return {"type": "audio", "mime_type": part.mime_type, "size": part.size}
    if isinstance(part, ResourceLink):
        return {
            "type": "resource_link",
            "uri": part.uri,
            "name": part.name,
            "title": part.title,
            "description": part.description,
            "mime_type": part.mime_type,
        }
    if isinstance(part, EmbeddedResource):
        return {
            "type": "resource",
            "uri": part.uri,
            "mime_type": part.mime_type,
            "text": part.text,
            "binary": part.data is not None,
        }
    return {
        "type": "omitted",
        "kind": part.kind,
        "mime_type": part.mime_type,
        "size": part.size,
        "reason": part.reason,
    }


def _in_words(note: ProgressNote) -> Callable[[Progress], None]:
    """A server's progress notification as the card says it: "3 of 10: indexing"."""

    def hear(progress: Progress) -> None:
        done = f"{progress.progress:g}"
        if progress.total:
            done = f"{done} of {progress.total:g}"
        note(f"{done}: {progress.message}" if progress.message else done)

    return hear
