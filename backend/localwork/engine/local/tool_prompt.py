"""Putting tools into a prompt: natively where the model's template supports them, otherwise
through a generic instruction that uses the Hermes ``<tool_call>`` convention
(``engine/tool_text.py``, which a remote server without native tool calls shares).

Messages use the common chat format: an assistant message may carry ``tool_calls``
(``[{"id", "type": "function", "function": {"name", "arguments"}}]``) and a tool's result is a
``{"role": "tool", "tool_call_id", "name", "content"}`` message. For templates without tool
support these are rewritten as plain text turns.
"""

from __future__ import annotations

from typing import Any

from localwork.engine.local.template import ChatTemplate
from localwork.engine.tool_text import folders_line, plain_turns, prompted_tools_system
from localwork.settings import FolderGrant
from localwork.vocabulary import Message


def render_with_tools(
    template: ChatTemplate,
    messages: list[Message],
    tools: list[dict[str, Any]],
    grants: list[FolderGrant],
) -> str:
    """The prompt for the next assistant turn, with tools offered the model's own way."""
    system, rest = _split_system(messages)
    system = f"{system}\n\n{folders_line(grants)}".strip()
    if template.supports_tools:
        return template.render([{"role": "system", "content": system}, *rest], tools=tools)
    system = prompted_tools_system(system, tools)
    return template.render([{"role": "system", "content": system}, *plain_turns(rest)])


def render_without_tools(template: ChatTemplate, messages: list[Message]) -> str:
    """The prompt with no tools offered; earlier calls and results stay readable."""
    if template.supports_tools:
        return template.render(messages)
    return template.render(plain_turns(messages))


def _split_system(messages: list[Message]) -> tuple[str, list[Message]]:
    if messages and messages[0]["role"] == "system":
        return messages[0]["content"], messages[1:]
    return "", messages
