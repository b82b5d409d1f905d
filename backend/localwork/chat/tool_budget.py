"""What the tool list costs in the model's context, and the refusal to start a reply that
the tool list leaves no room for.

Every tool on offer goes into each prompt (its name, description and argument schema), put
there the way the engine puts it (``ChatEngine.count_tools``). Many MCP servers with many
tools can fill a small context before the conversation starts: then the reply is refused
with ``ToolListTooLarge``, its numbers and what to do, instead of a trimmed-away message or
a confused model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from localwork.engine.base import ChatEngine, ReadyModel
from localwork.engine.budget import reply_room
from localwork.errors import ToolListTooLarge
from localwork.tools.base import Tool
from localwork.vocabulary import Message

# Characters per token, for an estimate when no model is ready to count with.
_CHARS_PER_TOKEN = 4


def tool_list_cost(engine: ChatEngine, tools: Mapping[str, Tool], *, exact: bool) -> dict[str, Any]:
    """``{"tokens": n, "exact": bool}``: what offering ``tools`` adds to each prompt. With
    ``exact`` False (no model is ready: counting would wait for one) it is estimated from the
    schemas' length."""
    if exact:
        return {"tokens": engine.count_tools(tools), "exact": True}
    text = json.dumps([tool.schema() for tool in tools.values()], ensure_ascii=False)
    return {"tokens": -(-len(text) // _CHARS_PER_TOKEN) if tools else 0, "exact": False}


def check_tool_room(
    engine: ChatEngine,
    ready: ReadyModel,
    tools: Mapping[str, Tool],
    system: str,
    newest: list[Message],
    max_tokens: int,
) -> int:
    """The tool list's cost, when the tools, the system prompt, the newest message (``newest``:
    what is never trimmed) and the room kept for the reply fit the context together.

    Raises:
        ToolListTooLarge: they do not, and would without the tools; the message gives the
            numbers and what to do.
    """
    tool_tokens = engine.count_tools(tools)
    prefix: list[Message] = [{"role": "system", "content": system}] if system else []
    message_tokens = engine.count_conversation(prefix + newest)
    n_ctx = ready.context_length
    room = reply_room(max_tokens, n_ctx)
    total = tool_tokens + message_tokens
    # A message too long even without the tools is the engine's to refuse (ContextOverflow,
    # with its own advice); only the tool list's share is refused here.
    if total + room <= n_ctx or message_tokens + room > n_ctx:
        return tool_tokens
    raise ToolListTooLarge(
        f"The reply was not started: the {len(tools)} tools on offer take {tool_tokens:,} "
        f"tokens, and with the message ({message_tokens:,} tokens) and {room:,} kept for the "
        f"reply that is {total + room:,}, more than the model's context of {n_ctx:,} tokens. "
        "Turn off MCP servers or tools this chat does not need (Settings, MCP servers), set "
        "tool use to Off, or raise the context length.",
        tool_tokens=tool_tokens,
        tokens=total,
        n_ctx=n_ctx,
        room=room,
    )
