"""Fit a conversation into the context window before anything reaches llama.cpp."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from localwork.errors import ContextOverflow
from localwork.vocabulary import Message


@dataclass(frozen=True)
class BudgetedPrompt:
    text: str
    prompt_tokens: int
    max_tokens: int
    dropped_messages: int


def reply_room(max_tokens: int, n_ctx: int) -> int:
    """Tokens kept free for the reply: the user's maximum, but never more than half the context."""
    return max(1, min(max_tokens, n_ctx // 2))


def fit_conversation(
    system: Message | None,
    history: list[Message],
    n_ctx: int,
    max_tokens: int,
    render: Callable[[list[Message]], str],
    count: Callable[[str], int],
    overflow: Literal["trim_oldest", "stop"] = "trim_oldest",
) -> BudgetedPrompt:
    """Render the longest suffix of ``history`` that fits, keeping the system prompt.

    The newest turn (the last user message and any tool calls answering it) is always kept.

    Raises:
        ContextOverflow: the newest message alone does not fit, or the history does not fit
            and the policy is "stop"; it carries the numbers, and its message states them.
    """
    room = reply_room(max_tokens, n_ctx)
    limit = n_ctx - room
    prefix = [system] if system else []

    def measure(dropped: int) -> tuple[str, int]:
        text = render(prefix + history[dropped:])
        return text, count(text)

    text, used = measure(0)
    if used <= limit:
        return BudgetedPrompt(text, used, min(max_tokens, n_ctx - used), 0)

    newest = _newest_turn(history)
    newest_only, newest_used = measure(newest)
    if newest_used > limit:
        raise ContextOverflow(
            f"This message does not fit: with the system prompt it takes {newest_used} tokens, "
            f"and the context holds {n_ctx} tokens of which {room} are kept for the reply.",
            tokens=newest_used,
            n_ctx=n_ctx,
            room=room,
        )
    if overflow == "stop":
        # What to do depends on the model and the settings: chat/failures.py says it.
        raise ContextOverflow(
            f"The conversation has grown to {used} tokens and no longer fits the context "
            f"({n_ctx} tokens, {room} kept for the reply).",
            tokens=used,
            n_ctx=n_ctx,
            room=room,
            whole_conversation=True,
        )

    # Fewest dropped messages that fit: binary search keeps tokenizer calls logarithmic.
    low, high = 1, newest
    best = (high, newest_only, newest_used)
    while low <= high:
        middle = (low + high) // 2
        candidate_text, candidate_used = measure(_turn_start(history, middle))
        if candidate_used <= limit:
            best = (middle, candidate_text, candidate_used)
            high = middle - 1
        else:
            low = middle + 1
    dropped = _turn_start(history, best[0])
    text, used = (best[1], best[2]) if dropped == best[0] else measure(dropped)
    return BudgetedPrompt(text, used, min(max_tokens, n_ctx - used), dropped)


def _turn_start(history: list[Message], dropped: int) -> int:
    """Move a cut forward to the next user message so the kept history starts with a turn."""
    while dropped < len(history) - 1 and history[dropped]["role"] != "user":
        dropped += 1
    return dropped


def _newest_turn(history: list[Message]) -> int:
    """Where the newest turn starts: the last user message."""
    for index in range(len(history) - 1, -1, -1):
        if history[index]["role"] == "user":
            return index
    return max(0, len(history) - 1)
