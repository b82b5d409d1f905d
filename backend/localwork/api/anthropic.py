"""Anthropic's Messages API in and out: ``system``, messages of content blocks (text,
``tool_use``, ``tool_result``), tools with ``input_schema``; the reply as a ``message`` (what
the model thought first as a ``thinking`` block) or as its stream of events (message_start,
content_block_start/delta/stop, message_delta, message_stop)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from localwork.api.openai import Turn, Usage, caller_tools, number, stops_of, token_limit
from localwork.api.wire import ApiError, new_id
from localwork.engine.base import TurnReply
from localwork.tools.base import Tool
from localwork.vocabulary import Message

Event = tuple[str, dict[str, Any]]


def _blocks(content: Any, param: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise ApiError(400, "A message's content is a string or a list of blocks.", param=param)
    if not all(isinstance(block, dict) for block in content):
        raise ApiError(400, "Each content block must be an object.", param=param)
    return content


def _text(blocks: list[dict[str, Any]], param: str) -> str:
    texts = []
    for block in blocks:
        if block.get("type") != "text":
            raise ApiError(400, f"A {block.get('type')!r} block cannot be here.", param=param)
        texts.append(str(block.get("text", "")))
    return "".join(texts)


def _system(raw: Any) -> str:
    if raw is None:
        return ""
    return _text(_blocks(raw, "system"), "system")


def _messages(raw: Any) -> list[Message]:
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'messages' must be a non-empty list.", param="messages")
    turns: list[Message] = []
    names: dict[str, str] = {}
    for index, message in enumerate(raw):
        where = f"messages.{index}"
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise ApiError(400, "Each message has the role user or assistant.", param=where)
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        for block in _blocks(message.get("content"), f"{where}.content"):
            kind = block.get("type")
            if kind == "text":
                texts.append(str(block.get("text", "")))
            elif kind == "tool_use" and message["role"] == "assistant":
                call_id = str(block.get("id") or new_id("toolu_"))
                names[call_id] = str(block.get("name", ""))
                arguments = block.get("input") if isinstance(block.get("input"), dict) else {}
                calls.append(
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": names[call_id], "arguments": arguments},
                    }
                )
            elif kind == "tool_result" and message["role"] == "user":
                call_id = str(block.get("tool_use_id", ""))
                result = block.get("content")
                text = (
                    result
                    if isinstance(result, str)
                    else _text(_blocks(result or [], where), where)
                )
                if block.get("is_error"):
                    text = json.dumps({"error": text})
                turns.append(
                    {
                        "role": "tool",
                        "tool_call_id": call_id,
                        "name": names.get(call_id, ""),
                        "content": text,
                    }
                )
            elif kind in ("thinking", "redacted_thinking"):
                continue  # what the model thought is never fed back
            else:
                raise ApiError(400, f"Content blocks of type {kind!r} are not supported.", where)
        if message["role"] == "assistant":
            turn: Message = {"role": "assistant", "content": "".join(texts)}
            if calls:
                turn["tool_calls"] = calls
            turns.append(turn)
        elif texts:
            turns.append({"role": "user", "content": "".join(texts)})
    return turns


def _tools(raw: Any) -> dict[str, Tool] | None:
    return caller_tools(
        raw,
        lambda tool: (tool.get("name"), tool.get("description"), tool.get("input_schema")),
        lambda index: f"tools.{index}",
        "Each tool must be an object.",
    )


def turn_of(body: dict[str, Any]) -> Turn:
    """A Messages request as a ``Turn``.

    Raises:
        ApiError: a field is missing or out of bounds.
    """
    max_tokens = token_limit(body, "max_tokens")
    if max_tokens is None:
        raise ApiError(400, "'max_tokens' is required.", param="max_tokens")
    tools = _tools(body.get("tools"))
    choice = body.get("tool_choice") or {"type": "auto"}
    kind = choice.get("type") if isinstance(choice, dict) else None
    named = None
    if kind == "tool":
        named = choice.get("name")
        if not tools or named not in tools:
            raise ApiError(400, "'tool_choice' names a tool not in 'tools'.", param="tool_choice")
    elif kind not in ("auto", "any", "none"):
        raise ApiError(400, "'tool_choice' is auto, any, tool or none.", param="tool_choice")
    sampling: dict[str, Any] = {}
    for name, low, high in (("temperature", 0.0, 1.0), ("top_p", 0.0, 1.0)):
        value = number(body, name, low, high)
        if value is not None:
            sampling[name] = value if name != "top_p" else max(value, 1e-6)
    top_k = body.get("top_k")
    if isinstance(top_k, int) and not isinstance(top_k, bool) and top_k >= 0:
        sampling["top_k"] = top_k
    return Turn(
        system=_system(body.get("system")),
        messages=_messages(body.get("messages")),
        tools=tools,
        mode="none" if kind == "none" else "required" if kind in ("any", "tool") else "auto",
        named=named,
        sampling=sampling,
        max_tokens=max_tokens,
        stop=stops_of(body.get("stop_sequences"), "stop_sequences"),
    )


def _stop_reason(reply: TurnReply) -> tuple[str, str | None]:
    if reply.calls:
        return "tool_use", None
    stats = reply.stats
    if stats is not None and stats["stop_reason"] == "length":
        return "max_tokens", None
    if stats is not None and stats["stop_text"]:
        return "stop_sequence", stats["stop_text"]
    return "end_turn", None


class Made:
    """One reply in Anthropic's shape, whole or as stream events."""

    def __init__(self, model: str) -> None:
        self._id = new_id("msg_")
        self._model = model
        self._index = -1
        self._open: str | None = None  # the kind of the block being streamed

    def _calls(self, reply: TurnReply) -> list[dict[str, Any]]:
        return [
            {
                "type": "tool_use",
                "id": new_id("toolu_"),
                "name": call.name,
                "input": call.arguments if isinstance(call.arguments, dict) else {},
            }
            for call in reply.calls
        ]

    def message(self, reply: TurnReply, usage: Usage) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.reasoning:
            content.append({"type": "thinking", "thinking": reply.reasoning, "signature": ""})
        if reply.text or not reply.calls:
            content.append({"type": "text", "text": reply.text})
        content += self._calls(reply)
        stop_reason, stop_sequence = _stop_reason(reply)
        return {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": {
                "input_tokens": usage.prompt_tokens,
                "output_tokens": usage.completion_tokens,
            },
        }

    def opening(self) -> Iterator[Event]:
        yield (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": self._id,
                    "type": "message",
                    "role": "assistant",
                    "model": self._model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 0, "output_tokens": 0},
                },
            },
        )

    def _block(self, kind: str, start: dict[str, Any]) -> Iterator[Event]:
        if self._open == kind:
            return
        yield from self._close()
        self._index += 1
        self._open = kind
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": self._index, "content_block": start},
        )

    def _close(self) -> Iterator[Event]:
        if self._open is not None:
            self._open = None
            yield "content_block_stop", {"type": "content_block_stop", "index": self._index}

    def _delta(self, delta: dict[str, Any]) -> Event:
        return (
            "content_block_delta",
            {"type": "content_block_delta", "index": self._index, "delta": delta},
        )

    def text(self, text: str) -> Iterator[Event]:
        yield from self._block("text", {"type": "text", "text": ""})
        yield self._delta({"type": "text_delta", "text": text})

    def reasoning(self, text: str) -> Iterator[Event]:
        yield from self._block("thinking", {"type": "thinking", "thinking": "", "signature": ""})
        yield self._delta({"type": "thinking_delta", "thinking": text})

    def closing(self, reply: TurnReply, usage: Usage) -> Iterator[Event]:
        if self._index < 0 and not reply.calls:  # nothing written: one empty text block
            yield from self._block("text", {"type": "text", "text": ""})
        yield from self._close()
        for call in self._calls(reply):
            yield from self._block("tool_use", {**call, "input": {}})
            yield self._delta(
                {"type": "input_json_delta", "partial_json": json.dumps(call["input"])}
            )
            yield from self._close()
        stop_reason, stop_sequence = _stop_reason(reply)
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": {
                    "input_tokens": usage.prompt_tokens,
                    "output_tokens": usage.completion_tokens,
                },
            },
        )
        yield "message_stop", {"type": "message_stop"}
