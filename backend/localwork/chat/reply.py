"""One reply as the agent loop builds it: its tool calls and text, kept whole even when the
reply fails part-way, and what the page and the store see of it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from localwork.chat.outcomes import describe_calls
from localwork.chat.turns import reply_tool_turns
from localwork.engine.base import Generation
from localwork.vocabulary import Message

CallStatus = Literal["waiting", "running", "done", "failed", "denied", "stopped"]


@dataclass
class ToolCallRecord:
    id: str
    round: int
    tool: str | None
    arguments: dict[str, Any] | None
    status: CallStatus = "running"
    result: dict[str, Any] | None = None
    error: str | None = None
    preview: dict[str, Any] | None = None  # what a change will do, shown before approval
    reason: str = ""  # why the user denied it
    audit_id: int | None = None
    outcome: str = ""  # what it did, in words, from its real result
    progress: str = ""  # how far a long call has got, as its source said
    # What another program returned, for the user's card only (``SourceRun.shown``): never
    # read back to the model, which got ``result`` or ``error``.
    shown: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """Equal for calls of the same tool with the same arguments."""
        return json.dumps([self.tool, self.arguments], sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AgentReply:
    """Everything one reply produced; kept whole even when the reply fails part-way."""

    text: str = ""  # the final answer
    round_texts: list[str] = field(default_factory=list)  # what it said before each round
    calls: list[ToolCallRecord] = field(default_factory=list)
    stats: Generation | None = None  # what the engine reported about the last text written
    stopped: bool = False
    notice: str | None = None  # why the loop ended early, in words for the user
    dropped_messages: int = 0
    streaming: str = ""  # the text of the round being written, as shown so far
    from_results: bool = False  # the text says what the calls did: the model said nothing
    reasoning: str = ""  # what the model thought, kept with the message, never fed back
    reasoning_seconds: float = 0.0  # how long it thought ("Thought for N s")

    def progress(self) -> dict[str, Any]:
        """The reply so far, for a page that opens the conversation mid-reply."""
        return {
            "tool_calls": [call.to_dict() for call in self.calls],
            "round_texts": list(self.round_texts),
            "text": self.streaming,
            "reasoning": self.reasoning,
        }

    def say_what_the_calls_did(self) -> None:
        """The answer is what the calls really did, from their results, not the model's."""
        self.text = describe_calls([call.to_dict() for call in self.calls])
        self.from_results = True

    def turns(self, limit: int) -> list[Message]:
        return reply_tool_turns(self.progress(), limit)

    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "stats": {**(self.stats or {}), "dropped_messages": self.dropped_messages},
            "stopped": self.stopped,
        }
        if self.calls:
            meta["tool_calls"] = [call.to_dict() for call in self.calls]
            meta["round_texts"] = self.round_texts
        if self.notice:
            meta["notice"] = self.notice
        if self.from_results:
            meta["answer_from_results"] = True
        if self.reasoning:
            meta["reasoning"] = {"text": self.reasoning, "seconds": self.reasoning_seconds}
        return meta
