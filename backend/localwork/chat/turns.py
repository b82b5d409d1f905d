"""Stored messages as the turns a prompt is built from, tool calls and results included.

An assistant message that used tools keeps them in its meta: ``round_texts`` (what it said
before each round of calls) and ``tool_calls`` (each with its round, tool, arguments, status
and result). For the prompt they become what chat templates expect: an assistant turn with
``tool_calls`` per round, then one ``tool`` turn per result, then the final answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from localwork.vocabulary import Message

# A tool result longer than this (in characters) reaches the model cut, with a marker.
MAX_RESULT_CHARS = 6000


def call_turn(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """One call in the OpenAI shape, which the tool-aware templates (Qwen, Llama 3.x) read."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def result_text(call: dict[str, Any], limit: int = MAX_RESULT_CHARS) -> str:
    """What the model reads back for one call: its result or error, cut to ``limit``."""
    if call.get("error"):
        text = json.dumps({"error": call["error"]}, ensure_ascii=False)
    else:
        text = json.dumps(call.get("result") or {}, ensure_ascii=False)
        outcome = call.get("outcome")
        if isinstance(outcome, str) and outcome:  # words a small model can answer from
            text = f"{outcome}\n{text}"
    if len(text) <= limit:
        return text
    return (
        f"{text[:limit]}\n[truncated: kept the first {limit} of {len(text)} characters; "
        "ask for less, e.g. a line range or a narrower search]"
    )


def tool_round_turns(text: str, calls: list[dict[str, Any]], limit: int) -> list[Message]:
    """One round: each call (the first with what the assistant said before it), then its
    result. One call per turn: some templates (Llama 3.x) refuse several in one message."""
    turns: list[Message] = []
    for index, call in enumerate(calls):
        name = call["tool"] or "invalid_call"
        turns.append(
            {
                "role": "assistant",
                "content": text if index == 0 else "",
                "tool_calls": [call_turn(call["id"], name, call["arguments"] or {})],
            }
        )
        turns.append(
            {
                "role": "tool",
                "tool_call_id": call["id"],
                "name": name,
                "content": result_text(call, limit),
            }
        )
    return turns


def prompt_turns(
    messages: Sequence[Mapping[str, Any]], limit: int = MAX_RESULT_CHARS
) -> list[Message]:
    """Stored messages (with meta) as chat turns for a template."""
    turns: list[Message] = []
    for message in messages:
        if message["role"] == "assistant":
            tool_turns = reply_tool_turns(message.get("meta") or {}, limit)
            if (message.get("meta") or {}).get("error") and not tool_turns:
                continue  # a saved failure tells the user what went wrong, not the model
            turns.extend(tool_turns)
            if message["content"] or not tool_turns:
                turns.append({"role": "assistant", "content": message["content"]})
        else:
            turns.append({"role": message["role"], "content": message["content"]})
    return turns


def reply_tool_turns(meta: dict[str, Any], limit: int = MAX_RESULT_CHARS) -> list[Message]:
    """A reply's tool calls (from its meta, saved or still being written), round by round."""
    calls = [call for call in meta.get("tool_calls") or [] if isinstance(call, dict)]
    texts = meta.get("round_texts")
    texts = texts if isinstance(texts, list) else []
    calls = [_complete(call, number) for number, call in enumerate(calls)]
    turns: list[Message] = []
    for index in sorted({call["round"] for call in calls}):
        in_round = [call for call in calls if call["round"] == index]
        text = texts[index] if index < len(texts) else ""
        turns.extend(tool_round_turns(text if isinstance(text, str) else "", in_round, limit))
    return turns


def _complete(call: dict[str, Any], number: int) -> dict[str, Any]:
    """A saved call with every field a prompt needs (an imported one may lack some)."""
    arguments = call.get("arguments")
    return {
        **call,
        "id": str(call.get("id") or f"call{number:08d}"),
        "round": call["round"] if isinstance(call.get("round"), int) else 0,
        "tool": call.get("tool") if isinstance(call.get("tool"), str) else None,
        "arguments": arguments if isinstance(arguments, dict) else {},
    }
