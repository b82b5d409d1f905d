"""A tool source in this process, beside the file tools: for tests of the tool-source seam.

Its tools are described by JSON schemas, as another program's tools are: ``echo`` only reads,
``stamp`` may change something (so it waits for approval), and ``read_file`` shares a file
tool's name (so the runner must qualify it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from localwork.errors import ToolError
from localwork.tools.base import Tool
from localwork.tools.source import SourceRun

_TEXT = {
    "type": "object",
    "properties": {"text": {"type": "string", "description": "what to say"}},
    "required": ["text"],
    "additionalProperties": False,
}


class NotesSource:
    name = "notes"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (tool, arguments) as run
        self.stamped: list[str] = []  # what ``stamp`` changed

    def tools(self) -> Sequence[Tool]:
        return (
            Tool("echo", "Say the text back.", None, input_schema=_TEXT),
            Tool(
                "stamp",
                "Stamp the text on the notice board.",
                None,
                may_change=True,
                input_schema=_TEXT,
            ),
            Tool("read_file", "Read a note by its text.", None, input_schema=_TEXT),
        )

    def available(self) -> bool:
        return True

    def preview(self, tool: Tool, arguments: Any) -> dict[str, Any]:
        return {"summary": f"Stamp {arguments['text']!r} on the board", "diff": None}

    def run(self, tool: Tool, arguments: Any, on_progress: Any = None) -> SourceRun:
        self.calls.append((tool.name, arguments))
        if arguments["text"] == "fail":
            raise ToolError("the board is full")
        if tool.name == "stamp":
            self.stamped.append(arguments["text"])
            return SourceRun({"stamped": arguments["text"]})
        return SourceRun({"text": arguments["text"]})
