"""One engine, several callers: the chat's replies and the local API's requests take turns.

The app has one engine (one loaded model, one worker that writes one reply at a time), and
both the window's reply queue (``chat/service.py``) and the local API (``api/``) want it.
``EngineTurns`` is the one gate they pass: first come, first served, whoever asks, so an API
client cannot starve the window nor the window an API client. A caller that waits can give
up (its request was stopped, its client left) without ever having held the engine; a kind of
caller can be limited in how many of it may wait (the API's queue answers 429 beyond that).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from localwork.errors import EngineBusy

Caller = Literal["chat", "api"]
_POLL_SECONDS = 0.05  # how often a waiting caller looks at its own cancel flag


class WaitCancelled(Exception):
    """The caller gave up before its turn came (it never held the engine)."""


class EngineTurns:
    """A fair (FIFO) lock around the engine, with who holds it and who waits."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._serving = 0  # the ticket whose turn it is
        self._abandoned: set[int] = set()  # tickets given up while waiting
        self._holder: Caller | None = None
        self._waiting: dict[Caller, int] = {"chat": 0, "api": 0}

    @contextmanager
    def turn(
        self,
        caller: Caller,
        cancelled: threading.Event | None = None,
        max_waiting: int | None = None,
    ) -> Iterator[None]:
        """Hold the engine for the block, after everyone who asked before.

        Raises:
            EngineBusy: ``max_waiting`` callers of this kind already wait.
            WaitCancelled: ``cancelled`` was set before the turn came.
        """
        with self._changed:
            if max_waiting is not None and self._waiting[caller] >= max_waiting:
                raise EngineBusy(
                    f"{self._waiting[caller]} requests already wait for the model; "
                    "try again when one has finished."
                )
            ticket = self._next_ticket
            self._next_ticket += 1
            self._waiting[caller] += 1
            try:
                while self._serving != ticket:
                    if cancelled is not None and cancelled.is_set():
                        self._abandoned.add(ticket)
                        raise WaitCancelled
                    self._changed.wait(_POLL_SECONDS if cancelled is not None else None)
            finally:
                self._waiting[caller] -= 1
            self._holder = caller
        try:
            yield
        finally:
            with self._changed:
                self._holder = None
                self._serving += 1
                while self._serving in self._abandoned:  # skip those who gave up
                    self._abandoned.discard(self._serving)
                    self._serving += 1
                self._changed.notify_all()

    def holder(self) -> Caller | None:
        """Who writes on the engine now, if anyone."""
        with self._changed:
            return self._holder

    def waiting(self, caller: Caller) -> int:
        with self._changed:
            return self._waiting[caller]
