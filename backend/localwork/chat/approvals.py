"""The user's say over calls that change files: asked in the UI, or fixed for a script.

A call waits here until the user answers (approve once, approve this tool for the rest of the
conversation, or deny with a reason) or the reply is stopped. "For this conversation" lasts
until the app closes: a restarted app asks again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from localwork.errors import NotFound
from localwork.tools.approval import Policy, UserAnswer
from localwork.tools.sandbox.grants import Scope

# How often a waiting call checks whether its reply was stopped.
_STOP_POLL_SECONDS = 0.1


@dataclass
class _Waiting:
    tool: str
    answered: threading.Event
    scope: Scope  # the changeable folders when the call asked
    decision: UserAnswer | None = None


class ApprovalGate:
    def __init__(self, policy: Policy = "ask") -> None:
        # "approve"/"refuse" answer every call at once: the command line's --yes, or its absence.
        self.policy: Policy = policy
        self._lock = threading.Lock()
        self._waiting: dict[tuple[str, str], _Waiting] = {}
        # conversation -> tool -> the changeable folders its "allow in this chat" covers; a
        # tool is named by the runner's ``approval_key`` (its source and its own name)
        self._allowed: dict[str, dict[str, Scope]] = {}

    def is_allowed(self, conversation_id: str, tool: str, scope: Scope) -> bool:
        """Whether the tool was allowed in this chat, with no folder changeable now that was
        not changeable then."""
        with self._lock:
            allowed = self._allowed.get(conversation_id, {}).get(tool)
            return allowed is not None and scope <= allowed

    def wait(
        self,
        conversation_id: str,
        call_id: str,
        tool: str,
        stopped: threading.Event,
        scope: Scope = frozenset(),
    ) -> UserAnswer | None:
        """Block until the user decides; ``None`` when the reply is stopped first.

        (Under the "approve" and "refuse" policies the caller does not ask: the call runs, or
        the runner refuses it.)
        """
        waiting = _Waiting(tool, threading.Event(), scope)
        key = (conversation_id, call_id)
        with self._lock:
            self._waiting[key] = waiting
        try:
            while not waiting.answered.wait(_STOP_POLL_SECONDS):
                if stopped.is_set():
                    return None
            return waiting.decision
        finally:
            with self._lock:
                self._waiting.pop(key, None)

    def decide(self, conversation_id: str, call_id: str, decision: UserAnswer) -> None:
        """Raises: NotFound: no call with this id is waiting (answered, stopped or unknown)."""
        with self._lock:
            waiting = self._waiting.get((conversation_id, call_id))
            if waiting is None or waiting.answered.is_set():
                raise NotFound("That tool call is no longer waiting for an answer.")
            if decision.answer == "conversation":
                self._allowed.setdefault(conversation_id, {})[waiting.tool] = waiting.scope
            waiting.decision = decision
            waiting.answered.set()

    def waiting_calls(self, conversation_id: str) -> list[str]:
        with self._lock:
            return [call for (conv, call) in self._waiting if conv == conversation_id]

    def forget(self, conversation_id: str) -> None:
        with self._lock:
            self._allowed.pop(conversation_id, None)
