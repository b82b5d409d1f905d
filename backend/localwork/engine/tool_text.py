"""Tools said in words, for a model that has no native way to take them: the Hermes
``<tool_call>`` convention, a one-line description per tool, and earlier calls and results
rewritten as plain turns. Engine-neutral: the local engine uses it for templates without tool
support, the remote engine for a server whose tools are set to "prompt".
"""

from __future__ import annotations

import json
from typing import Any

from localwork.settings import FolderGrant
from localwork.vocabulary import Message

_HOW_TO_CALL = (
    "To call a tool, answer with only:\n"
    "<tool_call>\n"
    '{"name": "<tool name>", "arguments": {<arguments as JSON>}}\n'
    "</tool_call>\n"
)
_FILE_EXAMPLES = (
    "Examples (paths are relative to the first folder):\n"
    "- What is in my folder? ->\n"
    '<tool_call>\n{"name": "list_directory", "arguments": {"path": "."}}\n</tool_call>\n'
    "- Read report.txt ->\n"
    '<tool_call>\n{"name": "read_file", "arguments": {"path": "report.txt"}}\n</tool_call>\n'
)
_AFTER_THE_RESULT = (
    "The result comes back inside <tool_response></tool_response>. Then answer the user in "
    "one or two plain sentences, using only what the result says."
)
_EXAMPLE_TOOLS = {"list_directory", "read_file"}


def generic_instructions(tool_names: set[str]) -> str:
    """How to call a tool, for a template without tool support. The file examples only when
    the file tools they call are offered: a small model copies an example's call."""
    if tool_names >= _EXAMPLE_TOOLS:
        return (
            "You can call tools to work with the user's files. "
            + _HOW_TO_CALL
            + (_FILE_EXAMPLES + _AFTER_THE_RESULT)
        )
    return "You can call tools. " + _HOW_TO_CALL + _AFTER_THE_RESULT


def folders_line(grants: list[FolderGrant]) -> str:
    if not grants:
        return (
            "No folders are shared with you, so you cannot read or change files; if the user "
            "asks, tell them to add a folder under Folders."
        )
    described = "; ".join(
        f"{json.dumps(grant.path)} ({'read and change' if grant.mode == 'rw' else 'read only'})"
        for grant in grants
    )
    # No example file name here: a small model copies it into calls on other files.
    return (
        f"You may use only these folders: {described}. Write paths relative to the first "
        'folder ("." is the folder itself).'
    )


def prompted_tools_system(system: str, tools: list[dict[str, Any]]) -> str:
    """The system message that offers ``tools`` (OpenAI function schemas) in words."""
    catalogue = "\n".join(describe_tool(tool["function"]) for tool in tools)
    instructions = generic_instructions({tool["function"]["name"] for tool in tools})
    return f"{instructions}\n\nTools:\n{catalogue}\n\n{system}".strip()


def describe_tool(function: dict[str, Any]) -> str:
    """One line per tool, short enough for a small model: name, arguments, what it does."""
    properties = function["parameters"].get("properties", {})
    required = set(function["parameters"].get("required", []))
    arguments = ", ".join(
        name if name in required else f"{name}={json.dumps(prop.get('default'))}"
        for name, prop in properties.items()
    )
    return f"- {function['name']}({arguments}): {function['description']}"


def plain_turns(messages: list[Message]) -> list[Message]:
    """Tool calls and results as text, for templates that know only user and assistant."""
    turns: list[Message] = []
    for message in messages:
        if message["role"] == "assistant" and message.get("tool_calls"):
            calls = "\n".join(
                f"<tool_call>\n{json.dumps(call['function'])}\n</tool_call>"
                for call in message["tool_calls"]
            )
            text = f"{message.get('content') or ''}\n{calls}".strip()
            turns.append({"role": "assistant", "content": text})
        elif message["role"] == "tool":
            response = f"<tool_response>\n{message['content']}\n</tool_response>"
            if turns and turns[-1]["role"] == "user" and "<tool_response>" in turns[-1]["content"]:
                turns[-1] = {"role": "user", "content": f"{turns[-1]['content']}\n{response}"}
            else:
                turns.append({"role": "user", "content": response})
        else:
            turns.append({"role": message["role"], "content": message["content"]})
    return turns
