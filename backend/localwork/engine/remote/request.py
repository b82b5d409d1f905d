"""What a chat-completions request holds, typed, and the JSON body it becomes.

Messages are the OpenAI shape as it is (role and content; an assistant's ``tool_calls``; a
tool's answer with the ``tool_call_id`` it answers), so a conversation goes out unchanged.
Sampling has the OpenAI fields; settings only some servers know (llama-server's and vLLM's
``top_k``, ``min_p``, ``repeat_penalty``) go in ``Sampling.extra``, because OpenAI itself
refuses a field it does not know. ``max_tokens`` is sent under that name, the one every
compatible server reads (OpenAI's newer ``max_completion_tokens`` is not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

from localwork.errors import InvalidRequest


class FunctionCall(TypedDict):
    name: str
    arguments: str  # JSON text, as the model wrote it


class MessageToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: FunctionCall


class SystemMessage(TypedDict):
    role: Literal["system"]
    content: str


class UserMessage(TypedDict):
    role: Literal["user"]
    content: str


class AssistantMessage(TypedDict):
    role: Literal["assistant"]
    content: str | None  # None when the turn is only tool calls
    tool_calls: NotRequired[list[MessageToolCall]]


class ToolMessage(TypedDict):
    role: Literal["tool"]
    tool_call_id: str  # the ``MessageToolCall.id`` this answers
    content: str


ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage


@dataclass(frozen=True)
class ToolSpec:
    """A tool the model may call: its name, what it does, and its arguments' JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, Any]

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": dict(self.parameters),
            },
        }


@dataclass(frozen=True)
class UseTool:
    """A tool choice that makes the model call this one tool."""

    name: str


# "auto": the model decides; "none": no calls; "required": at least one call.
ToolChoice = Literal["auto", "none", "required"] | UseTool


@dataclass(frozen=True)
class Sampling:
    """The OpenAI sampling fields; None leaves the server's default. ``extra`` is sent as it
    is, for fields only some servers know; it cannot replace the fields set here."""

    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: Sequence[str] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_openai(self) -> dict[str, Any]:
        fields: dict[str, Any] = dict(self.extra)
        named = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "frequency_penalty": self.frequency_penalty,
            "presence_penalty": self.presence_penalty,
            "stop": list(self.stop) or None,
        }
        fields.update({name: value for name, value in named.items() if value is not None})
        return fields


@dataclass(frozen=True)
class ChatRequest:
    """One streamed chat completion: which model, the conversation, the tools, the settings.

    Raises:
        InvalidRequest: no model id, or no messages.
    """

    model: str
    messages: Sequence[ChatMessage]
    tools: Sequence[ToolSpec] = ()
    tool_choice: ToolChoice | None = None
    sampling: Sampling = field(default_factory=Sampling)
    max_tokens: int | None = None
    stop: Sequence[str] = ()  # the caller's stop strings
    response_format: dict[str, Any] | None = None  # OpenAI's, as the caller gave it

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise InvalidRequest("Type the model id the server should use.")
        if not self.messages:
            raise InvalidRequest("A chat request needs at least one message.")

    def payload(self) -> dict[str, Any]:
        """The JSON body of ``POST {base}/chat/completions``."""
        body = self.sampling.to_openai()
        body.update(
            model=self.model.strip(),
            messages=list(self.messages),
            stream=True,
            # Without this, OpenAI (and servers that follow it) send no token counts.
            stream_options={"include_usage": True},
        )
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.stop:
            body["stop"] = list(self.stop)
        if self.response_format is not None:
            body["response_format"] = self.response_format
        if self.tools:
            body["tools"] = [tool.to_openai() for tool in self.tools]
        if isinstance(self.tool_choice, UseTool):
            body["tool_choice"] = {"type": "function", "function": {"name": self.tool_choice.name}}
        elif self.tool_choice is not None:
            body["tool_choice"] = self.tool_choice
        return body
