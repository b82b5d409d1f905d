"""OpenAI's Responses API, stateless: ``input`` (a string or items: messages,
``function_call``, ``function_call_output``), ``instructions``, function tools; the reply as
a ``response`` with reasoning, message and ``function_call`` output items, or as its stream of
events (response.created, response.reasoning_text.delta, response.output_text.delta, …,
response.completed). Nothing is stored:
``previous_response_id`` and ``store: true`` are refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from localwork.api.openai import (
    Turn,
    Usage,
    arguments_of,
    arguments_text,
    caller_tools,
    response_schema,
    sampling_of,
    stops_of,
    text_of,
    token_limit,
    tool_mode,
)
from localwork.api.wire import ApiError, new_id
from localwork.engine.base import TurnReply
from localwork.tools.base import Tool
from localwork.vocabulary import Message

Event = tuple[str, dict[str, Any]]


def _items(raw: Any) -> tuple[list[str], list[Message]]:
    if isinstance(raw, str):
        return [], [{"role": "user", "content": raw}]
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'input' is a string or a non-empty list of items.", param="input")
    systems: list[str] = []
    turns: list[Message] = []
    names: dict[str, str] = {}
    for index, item in enumerate(raw):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise ApiError(400, "Each input item must be an object.", param=where)
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            content = text_of(
                [
                    {**part, "type": "text"} if part.get("type") == "output_text" else part
                    for part in item["content"]
                    if isinstance(part, dict)
                ]
                if isinstance(item.get("content"), list)
                else item.get("content"),
                f"{where}.content",
            )
            if role in ("system", "developer"):
                systems.append(content)
            elif role in ("user", "assistant"):
                turns.append({"role": role, "content": content})
            else:
                raise ApiError(400, f"Unknown role {role!r}.", param=f"{where}.role")
        elif kind == "function_call":
            call_id = str(item.get("call_id") or new_id("call_"))
            names[call_id] = str(item.get("name", ""))
            call = {
                "id": call_id,
                "type": "function",
                "function": {
                    "name": names[call_id],
                    "arguments": arguments_of(item.get("arguments")),
                },
            }
            turns.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif kind == "function_call_output":
            call_id = str(item.get("call_id", ""))
            output = item.get("output")
            turns.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "name": names.get(call_id, ""),
                    "content": output if isinstance(output, str) else text_of(output, where),
                }
            )
        elif kind == "reasoning":
            continue
        else:
            raise ApiError(400, f"Input items of type {kind!r} are not supported.", param=where)
    return systems, turns


def _function_fields(tool: dict[str, Any]) -> tuple[Any, Any, Any] | None:
    if tool.get("type") != "function":
        return None
    return tool.get("name"), tool.get("description"), tool.get("parameters")


def _tools(raw: Any) -> dict[str, Tool] | None:
    return caller_tools(
        raw, _function_fields, lambda index: f"tools[{index}]", "Only function tools are supported."
    )


def turn_of(body: dict[str, Any]) -> Turn:
    """A Responses request as a ``Turn``.

    Raises:
        ApiError: a field is missing or out of bounds, or it asks for stored state.
    """
    if body.get("previous_response_id"):
        raise ApiError(
            400,
            "This server stores no responses: send the whole conversation in 'input'.",
            param="previous_response_id",
        )
    systems, messages = _items(body.get("input"))
    if isinstance(body.get("instructions"), str):
        systems.insert(0, body["instructions"])
    if not messages:
        raise ApiError(400, "'input' needs at least one message.", param="input")
    tools = _tools(body.get("tools"))
    mode, named = tool_mode(body.get("tool_choice"), tools)
    text_format = (
        (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    )
    if isinstance(text_format, dict) and text_format.get("type") == "json_schema":
        text_format = {"type": "json_schema", "json_schema": text_format}
    return Turn(
        system="\n\n".join(systems),
        messages=messages,
        tools=tools,
        mode=mode if tools else "none",
        named=named,
        sampling=sampling_of(body),
        max_tokens=token_limit(body, "max_output_tokens"),
        stop=stops_of(body.get("stop")),
        response_schema=response_schema(text_format),
    )


# The two kinds of item a reply's text streams into, and the type of each one's content part:
# the answer (a message), and what the model thought (a reasoning item; its text is raw
# reasoning, so ``content`` of ``reasoning_text`` as for open models, and no ``summary``).
ItemKind = Literal["message", "reasoning"]
_PART_TYPES: dict[ItemKind, str] = {"message": "output_text", "reasoning": "reasoning_text"}


def _part(kind: ItemKind, text: str) -> dict[str, Any]:
    part = {"type": _PART_TYPES[kind], "text": text}
    return {**part, "annotations": []} if kind == "message" else part


def _item(kind: ItemKind, item_id: str, text: str) -> dict[str, Any]:
    """A completed output item of ``text``."""
    if kind == "message":
        return {
            "type": "message",
            "id": item_id,
            "status": "completed",
            "role": "assistant",
            "content": [_part(kind, text)],
        }
    return {
        "type": "reasoning",
        "id": item_id,
        "status": "completed",
        "summary": [],
        "content": [_part(kind, text)],
        "encrypted_content": None,
    }


@dataclass
class _Streaming:
    """The output item being streamed."""

    kind: ItemKind
    item_id: str
    output_index: int
    pieces: list[str] = field(default_factory=list)

    @property
    def where(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "output_index": self.output_index, "content_index": 0}


class Made:
    """One reply in the Responses shape, whole or as stream events."""

    def __init__(self, model: str, body: dict[str, Any]) -> None:
        self._id = new_id("resp_")
        self._model = model
        self._body = body
        self._created = int(time.time())
        self._sequence = 0
        self._output: list[dict[str, Any]] = []  # the streamed items that are done
        self._open: _Streaming | None = None

    def _response(
        self, status: str, output: list[dict[str, Any]], usage: Usage | None
    ) -> dict[str, Any]:
        body = self._body
        return {
            "id": self._id,
            "object": "response",
            "created_at": self._created,
            "status": status,
            "model": self._model,
            "output": output,
            "instructions": body.get("instructions"),
            "tools": body.get("tools") or [],
            "tool_choice": body.get("tool_choice", "auto"),
            "parallel_tool_calls": True,
            "temperature": body.get("temperature"),
            "top_p": body.get("top_p"),
            "max_output_tokens": body.get("max_output_tokens"),
            "text": body.get("text") or {"format": {"type": "text"}},
            "truncation": "disabled",
            "store": False,
            "metadata": {},
            "error": None,
            "incomplete_details": None,
            "usage": None
            if usage is None
            else {
                "input_tokens": usage.prompt_tokens,
                "output_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }

    def _calls(self, reply: TurnReply) -> list[dict[str, Any]]:
        return [
            {
                "type": "function_call",
                "id": new_id("fc_"),
                "call_id": new_id("call_"),
                "name": call.name,
                "arguments": arguments_text(call),
                "status": "completed",
            }
            for call in reply.calls
        ]

    def response(self, reply: TurnReply, usage: Usage) -> dict[str, Any]:
        output = [_item("reasoning", new_id("rs_"), reply.reasoning)] if reply.reasoning else []
        if reply.text or not reply.calls:
            output.append(_item("message", new_id("msg_"), reply.text))
        return self._response("completed", output + self._calls(reply), usage)

    def failed(self, error: ApiError) -> dict[str, Any]:
        failed = self._response("failed", [], None)
        failed["error"] = {"code": error.code or "server_error", "message": error.message}
        return {"type": "response.failed", "sequence_number": self._next(), "response": failed}

    def _next(self) -> int:
        self._sequence += 1
        return self._sequence - 1

    def _event(self, name: str, **fields: Any) -> Event:
        return name, {"type": name, "sequence_number": self._next(), **fields}

    def opening(self) -> Iterator[Event]:
        yield self._event("response.created", response=self._response("in_progress", [], None))
        yield self._event("response.in_progress", response=self._response("in_progress", [], None))

    def text(self, text: str) -> Iterator[Event]:
        yield from self._stream("message", text)

    def reasoning(self, text: str) -> Iterator[Event]:
        yield from self._stream("reasoning", text)

    def _stream(self, kind: ItemKind, text: str) -> Iterator[Event]:
        """``text`` added to the open item of ``kind``; another kind's item is done first."""
        if self._open is None or self._open.kind != kind:
            yield from self._close()
            item_id = new_id("msg_" if kind == "message" else "rs_")
            self._open = _Streaming(kind, item_id, len(self._output))
            item = {**_item(kind, self._open.item_id, ""), "status": "in_progress", "content": []}
            yield self._event(
                "response.output_item.added", output_index=self._open.output_index, item=item
            )
            yield self._event(
                "response.content_part.added", **self._open.where, part=_part(kind, "")
            )
        self._open.pieces.append(text)
        yield self._event(
            f"response.{_PART_TYPES[kind]}.delta",
            **self._open.where,
            delta=text,
            **self._logprobs(kind),
        )

    def _close(self) -> Iterator[Event]:
        streaming, self._open = self._open, None
        if streaming is None:
            return
        kind, where, text = streaming.kind, streaming.where, "".join(streaming.pieces)
        yield self._event(
            f"response.{_PART_TYPES[kind]}.done", **where, text=text, **self._logprobs(kind)
        )
        yield self._event("response.content_part.done", **where, part=_part(kind, text))
        item = _item(kind, streaming.item_id, text)
        self._output.append(item)
        yield self._event(
            "response.output_item.done", output_index=streaming.output_index, item=item
        )

    @staticmethod
    def _logprobs(kind: ItemKind) -> dict[str, Any]:
        return {"logprobs": []} if kind == "message" else {}  # the answer's text events have them

    def closing(self, reply: TurnReply, usage: Usage) -> Iterator[Event]:
        yield from self._close()
        output = self._output
        for call in self._calls(reply):
            index = len(output)
            yield self._event(
                "response.output_item.added",
                output_index=index,
                item={**call, "arguments": "", "status": "in_progress"},
            )
            yield self._event(
                "response.function_call_arguments.delta",
                item_id=call["id"],
                output_index=index,
                delta=call["arguments"],
            )
            yield self._event(
                "response.function_call_arguments.done",
                item_id=call["id"],
                output_index=index,
                arguments=call["arguments"],
            )
            output.append(call)
            yield self._event("response.output_item.done", output_index=index, item=call)
        yield self._event("response.completed", response=self._response("completed", output, usage))
