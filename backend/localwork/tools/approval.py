"""The words of approval, each defined once, from the user's answer to the audit log's record.

A call that changes files needs approval. The page asks the user, who gives an ``Answer``; a
script fixes a ``Policy`` for every call instead. Either becomes the ``Approval`` the runner
is handed with the call, and the runner records a ``Decision`` in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# The page's three buttons: approve this call, approve this tool for the rest of the
# conversation, or deny (with an optional reason).
Answer = Literal["once", "conversation", "deny"]
# For a whole run: ask the user; or answer every call at once, approving (the command line's
# --yes) or refusing (without it).
Policy = Literal["ask", "approve", "refuse"]
# What the runner is handed with one call: the user approved it, the user denied it, or
# nobody approved it (a change is then refused, a read runs).
Approval = Literal["approved", "denied", "ask"]
# What the audit log records for a call: it needed no approval ("auto"), it was approved, the
# user denied it, or it was refused (not approved, or invalid).
Decision = Literal["auto", "approved", "denied", "refused"]


@dataclass
class UserAnswer:
    answer: Answer
    reason: str = ""

    @property
    def approval(self) -> Approval:
        return "denied" if self.answer == "deny" else "approved"
