"""A chat stream's chunks put together into a reply, with its text given out as it comes.

Each chunk is one ``data:`` JSON object of the stream (or, from a server that ignored
``stream: true``, the whole completion: its ``message`` is read like one big delta). The
reply's text goes through the ``<think>`` splitter (``engine/reasoning.py``); reasoning also
comes in its own field, ``reasoning_content`` (DeepSeek, llama-server) or ``reasoning``
(vLLM, Ollama, OpenRouter; some servers send both with the same text, so one is taken).

Quirks survived: a last chunk with no ``choices`` and only ``usage`` (``include_usage``),
``usage: null`` on every chunk or none at all, ``finish_reason`` missing, ``length``, or
"stop" on a message that has tool calls (Ollama). What is not the OpenAI shape raises
``BadChunk``; an ``error`` object in the stream raises ``ErrorEvent``; the client turns
both into coded errors (``failures.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, TypeGuard

from localwork.engine.reasoning import Piece, ReasoningSplitter
from localwork.engine.remote.toolcalls import ToolCall, ToolCallAssembler

# Why a reply ended: the model finished ("stop"), hit ``max_tokens`` ("length"), called tools,
# was filtered by the provider, was cancelled, or the server did not say ("unknown").
StopReason = Literal["stop", "length", "tool_calls", "content_filter", "cancelled", "unknown"]

_STOP_REASONS: dict[str, StopReason] = {
    "stop": "stop",
    "eos": "stop",
    "end_turn": "stop",
    "length": "length",
    "max_tokens": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",  # OpenAI's older name
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
}


class Usage(TypedDict):
    """The server's token counts for the request (its ``usage``)."""

    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int | None  # prompt tokens the server had cached, when it says
    reasoning_tokens: int | None  # of the completion, how many were reasoning, when it says


class StreamStats(TypedDict):
    time_to_first_token_ms: float | None  # None: nothing at all was written
    generation_seconds: float  # from the first token to the last
    completion_tokens: int
    # False: the server sent no usage, and ``completion_tokens`` counts the chunks that
    # carried text, reasoning or call arguments (servers send about one token a chunk).
    tokens_counted: bool
    tokens_per_second: float | None  # None when too few tokens were written to tell


@dataclass(frozen=True)
class ChatReply:
    text: str
    reasoning: str
    tool_calls: list[ToolCall]
    stop_reason: StopReason
    finish_reason: str | None  # as the server wrote it
    usage: Usage | None
    stats: StreamStats


class BadChunk(Exception):
    """A chunk that is not the OpenAI shape; the message says what is wrong with it."""


class ErrorEvent(Exception):
    """The server put an ``error`` object in the stream instead of a chunk."""

    def __init__(self, error: object) -> None:
        super().__init__(str(error))
        self.error = error


TextCallback = Callable[[str], None]


def _ignore(_: str) -> None:
    pass


class StreamAssembler:
    """``add`` each chunk; ``reply`` at the end. ``on_text`` and ``on_reasoning`` get each
    delta of the answer and of the reasoning; ``on_refiled`` gets the text already given to
    ``on_text`` when it turns out to have been reasoning (``engine/reasoning.py``)."""

    def __init__(
        self,
        *,
        on_text: TextCallback | None = None,
        on_reasoning: TextCallback | None = None,
        on_refiled: TextCallback | None = None,
        starts_in_reasoning: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callbacks: dict[str, TextCallback] = {
            "text": on_text or _ignore,
            "reasoning": on_reasoning or _ignore,
            "refiled": on_refiled or _ignore,
        }
        self._splitter = ReasoningSplitter(starts_in_reasoning=starts_in_reasoning)
        self._field_reasoning: list[str] = []
        self._tool_calls = ToolCallAssembler()
        self._clock = clock
        self._started = clock()
        self._first_token_at: float | None = None
        self._last_token_at: float | None = None
        self._token_chunks = 0
        self._usage: Usage | None = None
        self._finish_reason: str | None = None
        self.saw_a_chunk = False  # at least one chunk had ``choices``
        self.done = False  # ``data: [DONE]`` came

    @property
    def finished(self) -> bool:
        """Whether the server said the reply is whole (a finish reason, or ``[DONE]``)."""
        return self.done or self._finish_reason is not None

    @property
    def text(self) -> str:
        return self._splitter.text

    @property
    def reasoning(self) -> str:
        return "".join(self._field_reasoning) + self._splitter.reasoning

    def add(self, chunk: object) -> None:
        """Take one chunk.

        Raises:
            BadChunk: it is not the OpenAI shape.
            ErrorEvent: it is an error object.
        """
        if not isinstance(chunk, dict):
            raise BadChunk("a chunk is not a JSON object")
        if chunk.get("error") is not None:
            raise ErrorEvent(chunk["error"])
        self._take_usage(chunk.get("usage"))
        choices = chunk.get("choices")
        if choices is None:
            return  # a usage-only or bookkeeping chunk
        if not isinstance(choices, list):
            raise BadChunk("'choices' is not a list")
        self.saw_a_chunk = True
        choice = _first_choice(choices)
        if choice is None:
            return
        finish_reason = choice.get("finish_reason")
        if isinstance(finish_reason, str) and finish_reason:
            self._finish_reason = finish_reason
        delta = choice.get("delta", choice.get("message"))
        if delta is None:
            return
        if not isinstance(delta, dict):
            raise BadChunk("a choice's 'delta' is not an object")
        self._take_delta(delta)

    def end_of_text(self) -> None:
        """The stream ended: give out what the splitter held back."""
        self._give(self._splitter.finish())

    def reply(self, *, cancelled: bool = False) -> ChatReply:
        calls = self._tool_calls.calls()
        return ChatReply(
            text=self.text,
            reasoning=self.reasoning,
            tool_calls=calls,
            stop_reason="cancelled" if cancelled else self._stop_reason(bool(calls)),
            finish_reason=self._finish_reason,
            usage=self._usage,
            stats=self._stats(),
        )

    def _take_delta(self, delta: dict[str, Any]) -> None:
        wrote = False
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning is not None and not isinstance(reasoning, str):
            raise BadChunk("a delta's reasoning is not text")
        if reasoning:
            self._field_reasoning.append(reasoning)
            self._callbacks["reasoning"](reasoning)
            wrote = True
        content = delta.get("content")
        if content is not None and not isinstance(content, str):
            raise BadChunk("a delta's 'content' is not text")
        if content:
            self._give(self._splitter.feed(content))
            wrote = True
        tool_calls = delta.get("tool_calls")
        if tool_calls is not None:
            if not isinstance(tool_calls, list):
                raise BadChunk("a delta's 'tool_calls' is not a list")
            for call in tool_calls:
                if not self._tool_calls.add(call):
                    raise BadChunk("a tool call in a delta is not an object")
            wrote = wrote or bool(tool_calls)
        if wrote:
            self._count_token_chunk()

    def _give(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            self._callbacks[piece.kind](piece.text)

    def _count_token_chunk(self) -> None:
        now = self._clock()
        if self._first_token_at is None:
            self._first_token_at = now
        self._last_token_at = now
        self._token_chunks += 1

    def _take_usage(self, usage: object) -> None:
        if not isinstance(usage, dict):
            return  # absent, or null on the chunks before the last
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if not (_is_count(prompt) and _is_count(completion)):
            return
        prompt_details = usage.get("prompt_tokens_details")
        completion_details = usage.get("completion_tokens_details")
        self._usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "cached_prompt_tokens": _count_in(prompt_details, "cached_tokens"),
            "reasoning_tokens": _count_in(completion_details, "reasoning_tokens"),
        }

    def _stop_reason(self, has_calls: bool) -> StopReason:
        reason = _STOP_REASONS.get(self._finish_reason or "", "unknown")
        if has_calls and reason in ("stop", "unknown"):  # Ollama says "stop" after calls
            return "tool_calls"
        return reason

    def _stats(self) -> StreamStats:
        first, last = self._first_token_at, self._last_token_at
        seconds = (last - first) if first is not None and last is not None else 0.0
        counted = self._usage is not None
        tokens = self._usage["completion_tokens"] if self._usage else self._token_chunks
        waited = (first - self._started) * 1000 if first is not None else None
        return {
            "time_to_first_token_ms": waited,
            "generation_seconds": seconds,
            "completion_tokens": tokens,
            "tokens_counted": counted,
            "tokens_per_second": tokens / seconds if tokens >= 2 and seconds > 0 else None,
        }


def _first_choice(choices: list[Any]) -> dict[str, Any] | None:
    """The choice of the reply (``n`` is 1: the one with index 0, or the first)."""
    for choice in choices:
        if not isinstance(choice, dict):
            raise BadChunk("a choice is not an object")
        if choice.get("index", 0) == 0:
            return choice
    return None


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _count_in(details: object, key: str) -> int | None:
    value = details.get(key) if isinstance(details, dict) else None
    return value if _is_count(value) else None
