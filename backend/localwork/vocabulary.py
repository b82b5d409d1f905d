"""Words the parts share, each defined once: how a conversation uses tools, and a message."""

from __future__ import annotations

from typing import Any, Literal, get_args

# Per conversation: no tools, the model may call them, or it must call one first.
ToolMode = Literal["off", "auto", "required"]
TOOL_MODES: tuple[ToolMode, ...] = get_args(ToolMode)

# One chat turn as templates and engines take it: {"role", "content"} and, for tool use,
# "tool_calls" (assistant) or "tool_call_id" (tool).
Message = dict[str, Any]
