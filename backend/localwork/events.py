"""The events the app sends to the page, declared once, and the queue that carries them.

Every event is ``{"seq": n, "type": kind, ...payload}``; the payload of each kind is declared
below, and ``EventBus.publish`` refuses a kind or a payload that is not. The page (``main.js``),
``localwork-hero ask`` and the tests read these kinds (``tests/unit/test_events.py`` checks
that what they listen for is declared here).

- ``model_status``: the engine's state changed (loading, ready, error…); ``status`` is
  ``TextEngine.status()``.
- ``engine_crashed``: the worker died; ``restarting`` says whether it is being restarted.
- ``models_changed``: a model was installed or removed.
- ``download_progress``: a download moved on; ``download`` is its row in the Models pane.
- ``reply_queued``: a reply waits for ``ahead`` others.
- ``reply_started``: its turn came.
- ``token``: ``text`` the model wrote, as it writes it.
- ``reasoning``: ``text`` the model thought (shown folded above the answer); ``refiled``:
  the reply's text so far was reasoning after all and moves into the fold.
- ``tool_call``: a tool call was made or changed state; ``text`` is its round's text so far.
- ``history_trimmed``: the oldest ``dropped_messages`` did not fit and were left out.
- ``reply_context``: a turn's prompt holds ``prompt_tokens`` (exact for the local engine,
  estimated for a server's), said before it writes: the context meter's figure meanwhile.
- ``reply_done``: the reply ended (``stopped`` when the user stopped it); ``message`` is the
  saved assistant message, or None if there was nothing to save.
- ``reply_failed``: the reply failed; ``error`` is ``{code, message, advice, retry}``.
- ``api_serving``: the local API started or stopped serving requests on the engine:
  ``serving`` is True while any waits or runs (the status line says "serving an API
  request"), ``waiting`` how many wait, ``model`` the model the running one uses.
- ``api_request``: a row of the API log (``api/log.py``): time, client, endpoint, model,
  tokens in/out, duration, status.
- ``api_server``: the local API server started, stopped or failed to start, or its key was
  regenerated: ``status`` is the bridge's ``api_status()`` (the key masked).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Literal, TypedDict, get_args

_MAX_EVENTS = 10_000

EventKind = Literal[
    "model_status",
    "engine_crashed",
    "models_changed",
    "download_progress",
    "reply_queued",
    "reply_started",
    "token",
    "reasoning",
    "tool_call",
    "history_trimmed",
    "reply_context",
    "reply_done",
    "reply_failed",
    "api_serving",
    "api_request",
    "api_server",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)


class ModelStatus(TypedDict):
    status: dict[str, Any]


class EngineCrashed(TypedDict):
    message: str
    restarting: bool


class ModelsChanged(TypedDict):
    pass


class DownloadProgress(TypedDict):
    download: dict[str, Any]


class _OfAReply(TypedDict):
    conversation_id: str
    job_id: str


class ReplyQueued(_OfAReply):
    ahead: int


class ReplyStarted(_OfAReply):
    pass


class Token(_OfAReply):
    text: str


class Reasoning(_OfAReply):
    text: str
    refiled: bool


class ToolCall(_OfAReply):
    call: dict[str, Any]
    text: str


class HistoryTrimmed(_OfAReply):
    dropped_messages: int


class ReplyContext(_OfAReply):
    prompt_tokens: int  # what the turn's prompt holds: the context meter's figure meanwhile


class _ReplyEnded(_OfAReply):
    message: dict[str, Any] | None
    stopped: bool


class ReplyDone(_ReplyEnded, total=False):
    stats: dict[str, Any]  # not when the reply was stopped before it started


class ReplyFailed(_OfAReply):
    error: dict[str, Any]
    message: dict[str, Any] | None


class ApiServing(TypedDict):
    serving: bool
    waiting: int
    model: str | None


class ApiRequest(TypedDict):
    row: dict[str, Any]


class ApiServer(TypedDict):
    status: dict[str, Any]


PAYLOADS: dict[EventKind, type] = {
    "model_status": ModelStatus,
    "engine_crashed": EngineCrashed,
    "models_changed": ModelsChanged,
    "download_progress": DownloadProgress,
    "reply_queued": ReplyQueued,
    "reply_started": ReplyStarted,
    "token": Token,
    "reasoning": Reasoning,
    "tool_call": ToolCall,
    "history_trimmed": HistoryTrimmed,
    "reply_context": ReplyContext,
    "reply_done": ReplyDone,
    "reply_failed": ReplyFailed,
    "api_serving": ApiServing,
    "api_request": ApiRequest,
    "api_server": ApiServer,
}


def _keys(declared: Any) -> tuple[frozenset[str], frozenset[str]]:
    """A TypedDict's required keys, and all the keys it allows."""
    required: frozenset[str] = declared.__required_keys__
    return required, required | declared.__optional_keys__


# Read once, not for each event: every token event is checked.
_KEYS = {kind: _keys(declared) for kind, declared in PAYLOADS.items()}


def check_payload(kind: str, payload: dict[str, Any]) -> None:
    """Raises: TypeError: the kind is not declared, or the payload is not its declared one."""
    if kind not in _KEYS:
        raise TypeError(f"undeclared event kind {kind!r}: declare it in events.py")
    required, allowed = _KEYS[kind]
    keys = payload.keys()
    if not required <= keys <= allowed:
        raise TypeError(
            f"a {kind} event carries {sorted(keys)}; events.py declares {sorted(allowed)}"
        )


# Events that only carry more of a reply's text: a reader may take them in batches.
STREAMED = frozenset({"token", "reasoning"})


class EventBus:
    """Numbered events in a bounded buffer; readers long-poll for everything after a number."""

    def __init__(self, capacity: int = _MAX_EVENTS) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._next_seq = 1
        lock = threading.Lock()
        self._changed = threading.Condition(lock)  # any event
        # Only events that end a hold (not streamed text): a reader holding streamed text back
        # sleeps through the pieces instead of waking for each (it shares the model's cores).
        self._unheld = threading.Condition(lock)
        self._closed = False

    def publish(self, kind: EventKind, **payload: Any) -> dict[str, Any]:
        """Raises: TypeError: the kind or its payload is not the one declared above."""
        check_payload(kind, payload)
        with self._changed:
            event = {"seq": self._next_seq, "type": kind, **payload}
            self._next_seq += 1
            self._events.append(event)
            self._changed.notify_all()
            if kind not in STREAMED:
                self._unheld.notify_all()
        return event

    @property
    def last_seq(self) -> int:
        with self._changed:
            return self._next_seq - 1

    def poll(self, after: int, timeout: float, hold_streamed: float = 0.0) -> list[dict[str, Any]]:
        """Events numbered above ``after``, waiting up to ``timeout`` seconds for the first.

        ``hold_streamed``: for that many seconds, new events that are only streamed text
        (``STREAMED``) are held back to gather more, so a page draws a streaming reply a few
        times a second instead of for every piece; any other event ends the hold at once.
        """
        now = time.monotonic()
        deadline, release = now + timeout, now + min(hold_streamed, timeout)
        with self._changed:
            while not self._closed:
                fresh = self._after(after)
                if fresh and (now >= release or any(e["type"] not in STREAMED for e in fresh)):
                    return fresh
                if now >= deadline:
                    return fresh
                if fresh:  # streamed text only: wait for the release or an event that ends it
                    self._unheld.wait(release - now)
                else:
                    self._changed.wait(deadline - now)
                now = time.monotonic()
            return self._after(after)

    def _after(self, after: int) -> list[dict[str, Any]]:
        # Walk back from the newest event: the cost is the new events, not the buffer.
        fresh = []
        for event in reversed(self._events):
            if event["seq"] <= after:
                break
            fresh.append(event)
        fresh.reverse()
        return fresh

    def close(self) -> None:
        """Release every waiting reader at once (their threads must not hold up exit)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            self._unheld.notify_all()
