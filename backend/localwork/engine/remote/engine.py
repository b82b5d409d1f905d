"""A model on an OpenAI-compatible server as a ``ChatEngine``: one chat turn is one streamed
chat completion.

The conversation goes out in the OpenAI message shape it already has (``chat/turns.py``), with
the system prompt first. Tools go out either natively (``tools`` and ``tool_choice``; the
server's own template writes them and its parser returns the calls) or, for a server or model
that has no tool calling ("prompt" tools), in words in the system prompt, with the calls read
back out of the text the way the local engine reads them (``engine/tool_text.py``,
``engine/toolcalls.py``). Reasoning (a ``reasoning_content``/``reasoning`` field, or
``<think>`` in the text) goes to the turn's reasoning callback, never into the answer.

The OpenAI API does not say how many tokens a prompt is before it is sent: the conversation is
fitted into the model's context by the server's own tokenizer where it has one (``tokens.py``:
llama-server, vLLM, llama-cpp-python), else by an estimate from its length; either way into a
share of the context, for the template's own tokens. The server's counts, when it sends them,
are what the stats say.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from localwork.engine.base import Generation, ReadyModel, TurnReply, TurnRequest
from localwork.engine.budget import BudgetedPrompt, fit_conversation
from localwork.engine.remote.client import RemoteChatClient
from localwork.engine.remote.connection import RemoteServer
from localwork.engine.remote.request import (
    ChatMessage,
    ChatRequest,
    MessageToolCall,
    Sampling,
    ToolChoice,
    ToolSpec,
    UseTool,
)
from localwork.engine.remote.stream import ChatReply
from localwork.engine.remote.tokens import ServerTokenCounter
from localwork.engine.tool_text import folders_line, plain_turns, prompted_tools_system
from localwork.engine.toolcalls import HeldBackText, ParsedCall, parse_reply
from localwork.errors import InvalidRequest
from localwork.tools.base import Tool
from localwork.vocabulary import Message

# How a model takes tools: the server's native tool calling, or described in the prompt.
ToolStyle = Literal["native", "prompt"]
DEFAULT_CONTEXT_LENGTH = 8192
# Characters per token, on the small side (English is about 4, code and other scripts less),
# so that an estimated prompt is rarely bigger on the server than it was here.
_CHARS_PER_TOKEN = 3.0
_TOKENS_PER_MESSAGE = 8  # the template's role markers around each message, generously
# The estimate is fitted into this share of the context: the rest covers its error.
_ESTIMATE_SHARE = 0.9
_NOT_AN_OBJECT = "the arguments are not a JSON object"


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / _CHARS_PER_TOKEN)


@dataclass(frozen=True)
class RemoteModel:
    """One model of one server, as the user set it up."""

    server_name: str  # the name the user gave the server ("gpu-box")
    server: RemoteServer  # its base URL, key and timeouts
    model: str  # the server's own id of the model ("Qwen/Qwen3-8B")
    context_length: int = DEFAULT_CONTEXT_LENGTH
    tools: ToolStyle = "native"
    # False: the server is asked not to think first (Qwen3-style templates read it).
    thinking: bool = True

    @property
    def selection_id(self) -> str:
        """How the app names it: ``server/model`` (``ask --model gpu-box/Qwen3-8B``)."""
        return f"{self.server_name}/{self.model}"


class RemoteEngine:
    """A ``ChatEngine`` for one remote model; ``cancel`` may come from any thread."""

    def __init__(self, model: RemoteModel, client: RemoteChatClient | None = None) -> None:
        self.model = model
        self._client = client or RemoteChatClient(model.server)
        self._counter = ServerTokenCounter(model.server, model.model)
        self.last_stats: Generation | None = None  # the last turn's, for the status line

    def ready(self, timeout: float = 300.0) -> ReadyModel:
        # Nothing loads here: the server has the model, and a dead server says so on the turn.
        return ReadyModel(
            model_id=self.model.selection_id,
            context_length=self.model.context_length,
            very_small=False,
            can_rate_requests=False,
            native_tools=self.model.tools == "native",
            grammar=False,
            counts_tokens=self._counter.available is True,
        )

    def cancel(self) -> None:
        self._client.cancel()

    def count_conversation(self, messages: list[Message]) -> int:
        return self._count(wire_messages(messages), [])

    def _count(self, messages: list[Any], tools: list[dict[str, Any]]) -> int:
        """The prompt's tokens by the server's tokenizer when it has one, else estimated."""
        text = _prompt_text(messages, tools)
        counted = self._counter.count(text)
        tokens = estimate_tokens(text) if counted is None else counted
        return tokens + _TOKENS_PER_MESSAGE * len(messages)

    def count_tools(self, tools: Mapping[str, Tool]) -> int:
        if not tools:
            return 0
        schemas = [_spec(tool.schema()).to_openai() for tool in tools.values()]
        probe: list[Message] = [{"role": "user", "content": "?"}]
        bare = self._count(wire_messages(probe), [])
        if self.model.tools == "native":
            return max(0, self._count(wire_messages(probe), schemas) - bare)
        system: list[Message] = [{"role": "system", "content": prompted_tools_system("", schemas)}]
        turns = plain_turns(probe)
        return max(0, self._count(wire_messages(system + turns), []) - bare)

    def take_turn(self, turn: TurnRequest) -> TurnReply:
        tools = None if turn.answer_only else turn.tools
        specs = [_spec(tool.schema()) for tool in tools.values()] if tools else []
        native = bool(specs) and self.model.tools == "native"
        prompt = self._fit(turn, specs, native)
        if turn.on_prompt is not None:
            turn.on_prompt(prompt.prompt_tokens)
        said = TurnReply("", [], dropped_messages=prompt.dropped_messages)
        if turn.cancelled.is_set():
            return TurnReply("", [], stopped=True, dropped_messages=prompt.dropped_messages)
        visible = HeldBackText(turn.on_text, watching=bool(specs) and not native)
        request = ChatRequest(
            model=self.model.model,
            messages=json.loads(prompt.text),
            tools=specs if native else (),
            tool_choice=_tool_choice(turn, specs) if native else None,
            sampling=_sampling(turn.sampling, self.model.thinking),
            max_tokens=prompt.max_tokens,
            stop=tuple(turn.stop or ()),
            response_format=_response_format(turn.response_schema),
        )

        def on_reasoning(text: str) -> None:
            if turn.on_reasoning is not None:
                turn.on_reasoning(text)

        def on_refiled(text: str) -> None:
            visible.take_back()
            if turn.on_reasoning is not None:
                turn.on_reasoning(text, refiled=True)

        reply = self._client.stream_chat(
            request, on_text=visible.add, on_reasoning=on_reasoning, on_refiled=on_refiled
        )
        said.stats = self.last_stats = _generation(reply, prompt.prompt_tokens)
        said.reasoning = reply.reasoning
        if turn.cancelled.is_set() or reply.stop_reason == "cancelled":
            visible.flush()
            said.text, said.stopped = reply.text, True
            return said
        said.text, said.calls = reply.text, [_parsed(call) for call in reply.tool_calls]
        if specs and not native and not said.calls:  # calls written as text, if any
            parsed = parse_reply(reply.text)
            said.text, said.calls = parsed.text, parsed.calls
        if not said.calls:
            visible.flush()
        if said.calls and tools is None:  # it called although the round limit was reached
            said.calls, said.wanted_a_call = [], True
        return said

    def _fit(self, turn: TurnRequest, specs: list[ToolSpec], native: bool) -> BudgetedPrompt:
        """The conversation as the request's messages (JSON text), fitted into the context."""
        system = turn.system
        if specs:
            system = f"{system}\n\n{folders_line(turn.grants)}".strip()
            if not native:
                system = prompted_tools_system(system, [spec.to_openai() for spec in specs])
        schemas = [spec.to_openai() for spec in specs] if native else []

        def render(messages: list[Message]) -> str:
            turns = messages if native or not specs else plain_turns(messages)
            return json.dumps(wire_messages(turns), ensure_ascii=False)

        return fit_conversation(
            system={"role": "system", "content": system} if system else None,
            history=turn.messages,
            n_ctx=int(self.model.context_length * _ESTIMATE_SHARE),
            max_tokens=turn.max_tokens,
            render=render,
            count=lambda text: self._count(json.loads(text), schemas),
            overflow=turn.overflow,
        )


def wire_messages(messages: list[Message]) -> list[ChatMessage]:
    """The conversation as a chat-completions request carries it: call arguments as JSON text,
    a tool's answer with the id of the call it answers, nothing the API does not define."""
    wire: list[ChatMessage] = []
    for message in messages:
        role = message["role"]
        content = message.get("content")
        if role == "assistant" and message.get("tool_calls"):
            calls: list[MessageToolCall] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {
                        "name": call["function"]["name"],
                        "arguments": _arguments_text(call["function"]["arguments"]),
                    },
                }
                for call in message["tool_calls"]
            ]
            # "" rather than null: llama-cpp-python's server refuses a null content.
            wire.append({"role": "assistant", "content": content or "", "tool_calls": calls})
        elif role == "tool":
            wire.append(
                {"role": "tool", "tool_call_id": message["tool_call_id"], "content": content or ""}
            )
        elif role in ("system", "user", "assistant"):
            wire.append({"role": role, "content": str(content or "")})
        else:
            raise InvalidRequest(f"A chat message has a role a server does not take: {role!r}.")
    return wire


def _arguments_text(arguments: object) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _prompt_text(messages: list[Any], tools: list[dict[str, Any]]) -> str:
    """What of a request becomes prompt tokens: the messages' text, their calls, the tools."""
    text = "\n".join(str(message.get("content") or "") for message in messages)
    calls = [message.get("tool_calls") or [] for message in messages]
    extra = json.dumps(calls, ensure_ascii=False) if any(calls) else ""
    schemas = json.dumps(tools, ensure_ascii=False) if tools else ""
    return text + extra + schemas


def _spec(schema: dict[str, Any]) -> ToolSpec:
    function = schema["function"]
    return ToolSpec(function["name"], function.get("description", ""), function["parameters"])


def _response_format(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """A reply bound to ``schema``, in OpenAI's words."""
    if schema is None:
        return None
    return {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": schema, "strict": True},
    }


def _tool_choice(turn: TurnRequest, specs: list[ToolSpec]) -> ToolChoice:
    if not turn.must_call:
        return "auto"
    # One tool: named, which more servers honour than "required" (llama-cpp-python's server
    # turns a named choice into a grammar and answers "required" with plain text).
    return UseTool(specs[0].name) if len(specs) == 1 else "required"


def _sampling(settings: dict[str, Any], thinking: bool) -> Sampling:
    # Only the OpenAI fields: OpenAI itself refuses the others (top_k, min_p…), and servers
    # name them differently (vLLM's repetition_penalty is llama-server's repeat_penalty).
    # The one exception is asked for by the user: thinking off, which vLLM, SGLang and
    # llama-server pass to the chat template.
    extra = {} if thinking else {"chat_template_kwargs": {"enable_thinking": False}}
    return Sampling(
        temperature=settings.get("temperature"),
        top_p=settings.get("top_p"),
        seed=settings.get("seed"),
        extra=extra,
    )


def _parsed(call: Any) -> ParsedCall:
    problem = None if call.parsed_arguments is not None else _NOT_AN_OBJECT
    return ParsedCall(call.name or None, call.parsed_arguments, call.arguments, problem)


def _generation(reply: ChatReply, estimated_prompt: int) -> Generation:
    stats, usage = reply.stats, reply.usage
    ended = {"length": "length", "cancelled": "cancelled"}.get(reply.stop_reason, "eos")
    return {
        "stop_reason": ended,  # type: ignore[typeddict-item]
        "stop_text": None,
        "prompt_tokens": usage["prompt_tokens"] if usage else estimated_prompt,
        "prompt_tokens_reused": (usage["cached_prompt_tokens"] if usage else None) or 0,
        "completion_tokens": usage["completion_tokens"] if usage else stats["completion_tokens"],
        "time_to_first_token_ms": stats["time_to_first_token_ms"] or 0.0,
        "generation_seconds": stats["generation_seconds"],
        "tokens_per_second": stats["tokens_per_second"],
    }
