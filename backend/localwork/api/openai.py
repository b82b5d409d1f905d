"""OpenAI's Chat Completions in and out: a request as one engine turn, its reply as a
``chat.completion`` or as ``chat.completion.chunk`` events.

Streamed tool calls come the way the official client's accumulator reads them: each call's
first piece carries its ``index``, ``id``, ``type`` and the function's name, the next ones
only pieces of its ``arguments``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from localwork.api.wire import ApiError, new_id
from localwork.engine.base import ReasoningCallback, TurnReply, TurnRequest
from localwork.engine.toolcalls import ParsedCall
from localwork.tools.base import Tool
from localwork.tools.path_choices import PathChoices
from localwork.vocabulary import Message

ToolMode = Literal["none", "auto", "required"]
MAX_STOPS = 4
_ARGUMENT_PIECE = 16  # characters of a call's arguments per streamed chunk


@dataclass
class Turn:
    """What a request asks of one engine turn, before the engine is chosen."""

    system: str
    messages: list[Message]
    tools: dict[str, Tool] | None = None
    mode: ToolMode = "auto"
    named: str | None = None  # tool_choice named this function
    sampling: dict[str, Any] = field(default_factory=dict)  # the request's overrides
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    response_schema: dict[str, Any] | None = None

    def request(
        self,
        defaults: dict[str, Any],
        on_text: Callable[[str], None],
        on_reasoning: ReasoningCallback | None,
        cancelled: threading.Event,
    ) -> TurnRequest:
        """The engine's ``TurnRequest``; ``defaults`` are the model's generation settings."""
        offered = None if self.mode == "none" else self.tools
        if offered is not None and self.named is not None:
            offered = {self.named: offered[self.named]}
        users = [m for m in self.messages if m["role"] == "user"]
        max_tokens = self.max_tokens or int(defaults["max_tokens"])
        sampling = {
            key: defaults[key]
            for key in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed")
        }
        return TurnRequest(
            messages=self.messages,
            system=self.system,
            tools=offered,
            must_call=offered is not None and self.mode == "required",
            watch_for_calls=offered is not None,
            after_results=bool(self.messages) and self.messages[-1]["role"] == "tool",
            answer_only=False,
            request=str(users[-1]["content"]) if users else "",
            rate_request=False,
            grants=[],
            path_choices=lambda: PathChoices((), ()),
            sampling={**sampling, **self.sampling},
            max_tokens=max_tokens,
            overflow="stop",  # never cut what the caller sent: over the context is a 400
            on_text=on_text,
            cancelled=cancelled,
            on_reasoning=on_reasoning,
            stop=self.stop or None,
            response_schema=self.response_schema,
        )


# --- the request ---------------------------------------------------------------------------------


def text_of(content: Any, param: str) -> str:
    """A message's content as text: a string, or a list of text parts.

    Raises:
        ApiError: a part is not text (images, audio: no installed model reads them).
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") not in ("text", "input_text"):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise ApiError(400, f"Only text content is supported, not {kind!r}.", param=param)
            texts.append(str(part.get("text", "")))
        return "".join(texts)
    raise ApiError(400, "A message's content must be a string or a list of parts.", param=param)


def arguments_of(raw: Any) -> dict[str, Any]:
    """A call's arguments as the templates take them: an object (a JSON string is read)."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw or "{}")
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def chat_messages(raw: Any) -> tuple[str, list[Message]]:
    """The system prompt and the conversation of a Chat Completions ``messages``."""
    if not isinstance(raw, list) or not raw:
        raise ApiError(400, "'messages' must be a non-empty list.", param="messages")
    systems: list[str] = []
    turns: list[Message] = []
    names: dict[str, str] = {}  # call id -> tool name, for the tool results
    for index, message in enumerate(raw):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise ApiError(400, "Each message must be an object.", param=where)
        role = message.get("role")
        content = text_of(message.get("content"), f"{where}.content")
        if role in ("system", "developer"):
            systems.append(content)
        elif role == "user":
            turns.append({"role": "user", "content": content})
        elif role == "assistant":
            turn: Message = {"role": "assistant", "content": content}
            calls = []
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {} if isinstance(call, dict) else {}
                call_id = str(call.get("id") or new_id("call_"))
                names[call_id] = str(function.get("name", ""))
                calls.append(
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": names[call_id],
                            "arguments": arguments_of(function.get("arguments")),
                        },
                    }
                )
            if calls:
                turn["tool_calls"] = calls
            turns.append(turn)
        elif role == "tool":
            call_id = str(message.get("tool_call_id", ""))
            turns.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "name": names.get(call_id, str(message.get("name", ""))),
                    "content": content,
                }
            )
        else:
            raise ApiError(400, f"Unknown role {role!r}.", param=f"{where}.role")
    if not turns:
        raise ApiError(400, "'messages' needs at least one non-system message.", param="messages")
    return "\n\n".join(systems), turns


def caller_tool(name: Any, description: Any, schema: Any, param: str) -> Tool:
    """A tool the caller offers (the caller runs it: it has no ``run`` here)."""
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "Each tool needs a name.", param=param)
    if schema is None:
        schema = {"type": "object", "properties": {}}
    if not isinstance(schema, dict):
        raise ApiError(400, "A tool's parameters must be a JSON schema object.", param=param)
    return Tool(name, str(description or ""), None, input_schema=schema)


# One entry of a request's tool list as (name, description, JSON schema); None when the
# entry is not a kind of tool this API's shape takes.
ToolFields = Callable[[dict[str, Any]], tuple[Any, Any, Any] | None]


def caller_tools(
    raw: Any, fields: ToolFields, where: Callable[[int], str], refusal: str
) -> dict[str, Tool] | None:
    """A request's ``tools`` in any API's shape; ``refusal`` says what an entry must be."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ApiError(400, "'tools' must be a list.", param="tools")
    tools: dict[str, Tool] = {}
    for index, tool in enumerate(raw):
        named = fields(tool) if isinstance(tool, dict) else None
        if named is None:
            raise ApiError(400, refusal, param=where(index))
        made = caller_tool(*named, where(index))
        tools[made.name] = made
    return tools or None


def _chat_fields(tool: dict[str, Any]) -> tuple[Any, Any, Any] | None:
    if tool.get("type", "function") != "function":
        return None
    function = tool.get("function") or {}
    return function.get("name"), function.get("description"), function.get("parameters")


def chat_tools(raw: Any) -> dict[str, Tool] | None:
    return caller_tools(
        raw, _chat_fields, lambda index: f"tools[{index}]", "Only function tools are supported."
    )


def tool_mode(raw: Any, tools: dict[str, Tool] | None) -> tuple[ToolMode, str | None]:
    """``tool_choice``: none, auto, required, or one function by name."""
    if raw is None:
        return ("auto", None)
    if raw in ("none", "auto", "required"):
        return (raw, None)
    name = None
    if isinstance(raw, dict):
        name = (raw.get("function") or {}).get("name") or raw.get("name")
    if not isinstance(name, str):
        raise ApiError(400, "'tool_choice' is none, auto, required or a function.", "tool_choice")
    if not tools or name not in tools:
        raise ApiError(400, f"'tool_choice' names {name!r}, not one of 'tools'.", "tool_choice")
    return ("required", name)


def response_schema(raw: Any) -> dict[str, Any] | None:
    """``response_format`` as the schema the reply must match (None: free text)."""
    if raw is None:
        return None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        schema = (raw.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise ApiError(400, "json_schema needs a 'schema' object.", param="response_format")
        return schema
    raise ApiError(400, "'response_format' is text, json_object or json_schema.", "response_format")


def number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be a number from {low:g} to {high:g}.", param=name)
    return float(value)


def sampling_of(body: dict[str, Any]) -> dict[str, Any]:
    """The request's sampling overrides, each checked."""
    sampling: dict[str, Any] = {}
    temperature = number(body, "temperature", 0, 2)
    if temperature is not None:
        sampling["temperature"] = temperature
    top_p = number(body, "top_p", 0, 1)
    if top_p is not None:
        sampling["top_p"] = max(top_p, 1e-6)
    seed = body.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ApiError(400, "'seed' must be an integer.", param="seed")
        sampling["seed"] = seed % 2**31
    return sampling


def token_limit(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ApiError(400, f"'{name}' must be a positive integer.", param=name)
        return value
    return None


def stops_of(raw: Any, param: str = "stop") -> list[str]:
    if raw is None:
        return []
    stops = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOPS
        or not all(isinstance(s, str) and s for s in stops)
    ):
        raise ApiError(400, f"'{param}' is a string or up to {MAX_STOPS} strings.", param=param)
    return list(stops)


def include_usage(body: dict[str, Any]) -> bool:
    """Whether a streamed request asked for a last chunk with the usage."""
    options = body.get("stream_options") or {}
    return isinstance(options, dict) and bool(options.get("include_usage"))


def one_choice(body: dict[str, Any]) -> None:
    if body.get("n", 1) != 1:
        raise ApiError(400, "Only n=1 is supported.", param="n")


def chat_turn(body: dict[str, Any]) -> Turn:
    """A Chat Completions request as a ``Turn``.

    Raises:
        ApiError: a field is missing or out of bounds (``param`` names it).
    """
    one_choice(body)
    system, messages = chat_messages(body.get("messages"))
    tools = chat_tools(body.get("tools"))
    mode, named = tool_mode(body.get("tool_choice"), tools)
    if tools is None and mode == "required":
        raise ApiError(400, "'tool_choice' is required but no 'tools' are given.", "tool_choice")
    return Turn(
        system=system,
        messages=messages,
        tools=tools,
        mode=mode,
        named=named,
        sampling=sampling_of(body),
        max_tokens=token_limit(body, "max_completion_tokens", "max_tokens"),
        stop=stops_of(body.get("stop")),
        response_schema=response_schema(body.get("response_format")),
    )


# --- the reply ----------------------------------------------------------------------------------


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int

    def openai(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


def call_id() -> str:
    return new_id("call_")


def arguments_text(call: ParsedCall) -> str:
    return json.dumps(call.arguments if isinstance(call.arguments, dict) else {})


def finish_reason(reply: TurnReply) -> str:
    if reply.calls:
        return "tool_calls"
    if reply.stats is not None and reply.stats["stop_reason"] == "length":
        return "length"
    return "stop"


def completion(
    completion_id: str, model: str, reply: TurnReply, usage: Usage, ids: list[str]
) -> dict[str, Any]:
    """A whole ``chat.completion``."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if not reply.calls and message["content"] is None:
        message["content"] = ""
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": ids[index],
                "type": "function",
                "function": {"name": call.name, "arguments": arguments_text(call)},
            }
            for index, call in enumerate(reply.calls)
        ]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason(reply),
                "logprobs": None,
            }
        ],
        "usage": usage.openai(),
    }


class Chunks:
    """The ``chat.completion.chunk`` objects of one streamed reply."""

    def __init__(self, completion_id: str, model: str) -> None:
        self._id, self._model, self._created = completion_id, model, int(time.time())

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }

    def opening(self) -> dict[str, Any]:
        return self.chunk({"role": "assistant", "content": ""})

    def text(self, text: str) -> dict[str, Any]:
        return self.chunk({"content": text})

    def reasoning(self, text: str) -> dict[str, Any]:
        return self.chunk({"reasoning_content": text})

    def calls(self, calls: list[ParsedCall], ids: list[str]) -> Iterator[dict[str, Any]]:
        for index, call in enumerate(calls):
            yield self.chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": ids[index],
                            "type": "function",
                            "function": {"name": call.name, "arguments": ""},
                        }
                    ]
                }
            )
            text = arguments_text(call)
            for start in range(0, len(text), _ARGUMENT_PIECE):
                piece = text[start : start + _ARGUMENT_PIECE]
                yield self.chunk(
                    {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                )

    def end(self, reply: TurnReply) -> dict[str, Any]:
        return self.chunk({}, finish_reason(reply))

    def usage(self, usage: Usage) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
            "choices": [],
            "usage": usage.openai(),
        }
