"""The reply queue: one conversation turn at a time, streamed to the frontend as events."""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from localwork.chat.agent import AgentLoop
from localwork.chat.approvals import ApprovalGate
from localwork.chat.failures import describe_failure
from localwork.chat.reply import AgentReply
from localwork.conversations.store import (
    DEFAULT_TITLE,
    ConversationStore,
    StoredMessage,
    title_from_message,
)
from localwork.engine.base import ChatEngine, EngineStatus
from localwork.engine.gate import EngineTurns, WaitCancelled
from localwork.errors import InvalidRequest, LocalWorkError, NotFound
from localwork.events import EventBus
from localwork.tools.approval import UserAnswer
from localwork.vocabulary import ToolMode

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1_000_000


class SelectedEngineLike(ChatEngine, Protocol):
    """The engine of the selected model, and its status (``engine/choice.SelectedEngine``)."""

    def status(self) -> EngineStatus: ...


@dataclass
class ReplyJob:
    conversation_id: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    cancelled: threading.Event = field(default_factory=threading.Event)
    queued_seq: int = 0  # the seq of the reply_queued event that announced it


def _check_text(text: str) -> None:
    """Raises: InvalidRequest: the message is empty or over the limit."""
    if not text.strip():
        raise InvalidRequest("The message is empty: type something first.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidRequest(
            f"The message is {len(text)} characters; the limit is {MAX_MESSAGE_CHARS}."
        )


class ChatService:
    def __init__(
        self,
        store: ConversationStore,
        engine: SelectedEngineLike,
        events: EventBus,
        agent: AgentLoop,
        approvals: ApprovalGate,
        turns: EngineTurns | None = None,  # shared with the local API: one engine, one queue
    ) -> None:
        self._turns = turns or EngineTurns()
        self._store = store
        self._engine = engine
        self._events = events
        self._agent = agent
        self.approvals = approvals
        self._jobs: queue.Queue[ReplyJob | None] = queue.Queue()
        self._active: dict[str, ReplyJob] = {}  # queued or running, by conversation
        self._running: ReplyJob | None = None  # the one the engine is working on
        self._live: dict[str, AgentReply] = {}  # what the running reply has done so far
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="chat-replies", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Stop every reply (each keeps what it did) and wait for the reply thread."""
        with self._lock:
            jobs = list(self._active.values())
        for job in jobs:
            job.cancelled.set()
        self._engine.cancel()
        self._jobs.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    # --- requests from the bridge ---------------------------------------------------------------
    def send(
        self, conversation_id: str | None, text: str, tool_mode: ToolMode | None = None
    ) -> dict[str, Any]:
        """Store the user's message and queue the reply; ``tool_mode``, when given, becomes
        the conversation's first (a new chat is one request).

        Raises:
            InvalidRequest: the message is empty or a reply is already running here.
            NotFound: the conversation does not exist.
        """
        _check_text(text)
        if conversation_id is None:
            conversation = self._store.create_conversation(title_from_message(text))
        else:
            conversation = self._store.get_conversation(conversation_id)
        if tool_mode is not None:
            conversation = self._store.set_tool_mode(conversation["id"], tool_mode)
        with self._reservation(conversation["id"]) as job:
            if conversation["title"] == DEFAULT_TITLE:
                conversation = self._store.rename_conversation(
                    conversation["id"], title_from_message(text)
                )
            message = self._store.add_message(conversation["id"], "user", text)
        # queued_seq: a page whose events have not reached it yet can show the reply queued
        # with the message, in one draw.
        return {
            "conversation": conversation,
            "message": message,
            "job_id": job.id,
            "queued_seq": job.queued_seq,
        }

    def retry(self, conversation_id: str) -> dict[str, Any]:
        """Answer the last user message again (after a crash or an error).

        A saved failure without tool calls is only the record of what went wrong: it goes.
        One with calls stays, since they happened, and the model carries on after them.
        """
        messages = self._store.messages(conversation_id)
        last = messages[-1] if messages else None
        failed_alone = last is not None and _failed_without_calls(last)
        if last is None or not (
            last["role"] == "user" or last["meta"].get("interrupted") or failed_alone
        ):
            raise InvalidRequest("There is no unanswered message to retry in this conversation.")
        with self._reservation(conversation_id) as job:
            if failed_alone and len(messages) > 1:
                self._store.delete_messages_after(conversation_id, messages[-2]["id"])
        return {"job_id": job.id}

    def regenerate(self, conversation_id: str) -> dict[str, Any]:
        """Write the last reply again: what followed the last user message is replaced.

        Raises:
            InvalidRequest: a reply is running here, or there is no message to answer.
            NotFound: the conversation does not exist.
        """
        with self._reservation(conversation_id) as job:
            users = [m for m in self._store.messages(conversation_id) if m["role"] == "user"]
            if not users:
                raise InvalidRequest("There is no message to answer again in this conversation.")
            self._store.delete_messages_after(conversation_id, users[-1]["id"])
        return {"job_id": job.id}

    def edit_and_resend(self, conversation_id: str, message_id: int, text: str) -> dict[str, Any]:
        """Change one of the user's messages and answer it again; later turns are replaced.

        Raises:
            InvalidRequest: the text is empty or too long, a reply is running here, or the
                message is not one the user wrote.
            NotFound: the conversation or the message does not exist.
        """
        _check_text(text)
        with self._reservation(conversation_id) as job:
            messages = self._store.messages(conversation_id)
            target = next((m for m in messages if m["id"] == message_id), None)
            if target is None:
                raise NotFound(f"Message {message_id} is not in this conversation.")
            if target["role"] != "user":
                raise InvalidRequest(
                    "Only your own messages can be edited; regenerate a reply instead."
                )
            self._store.edit_message(conversation_id, message_id, text)
            self._retitle(conversation_id, messages, target, text)
        return {"job_id": job.id}

    def _retitle(
        self,
        conversation_id: str,
        messages: list[StoredMessage],
        edited: StoredMessage,
        text: str,
    ) -> None:
        """A title made from the first message follows its edit; one the user chose stays."""
        first = next(m for m in messages if m["role"] == "user")
        title = self._store.get_conversation(conversation_id)["title"]
        if edited is first and title == title_from_message(first["content"]):
            self._store.rename_conversation(conversation_id, title_from_message(text))

    def stop(self, conversation_id: str) -> bool:
        """Stop the reply for this conversation, keeping what was generated."""
        with self._lock:
            job = self._active.get(conversation_id)
            running = job is not None and job is self._running
        if job is None:
            return False
        job.cancelled.set()  # also ends a wait for approval; a queued job ends unstarted
        if running:  # the engine may be writing another conversation's reply otherwise
            self._engine.cancel()
        return True

    def decide(self, conversation_id: str, call_id: str, decision: UserAnswer) -> dict[str, Any]:
        """The user's answer to a call waiting for approval.

        Raises:
            NotFound: that call is not waiting (already answered, or its reply was stopped).
        """
        self.approvals.decide(conversation_id, call_id, decision)
        return {"call_id": call_id, "answer": decision.answer}

    def busy_conversations(self) -> list[str]:
        with self._lock:
            return list(self._active)

    def live(self, conversation_id: str) -> dict[str, Any] | None:
        """The running reply's progress (its calls and text so far), for a page that reloads."""
        with self._lock:
            reply = self._live.get(conversation_id)
            return reply.progress() if reply else None

    @contextmanager
    def _reservation(self, conversation_id: str) -> Iterator[ReplyJob]:
        """Claim the conversation for one reply, then queue it. The claim is atomic (two quick
        sends cannot both pass) and is released if the caller fails before queueing."""
        job = ReplyJob(conversation_id)
        with self._lock:
            if conversation_id in self._active:
                raise InvalidRequest("A reply is still being written here; stop it or wait.")
            self._active[conversation_id] = job
            ahead = len(self._active) - 1
        try:
            yield job
        except BaseException:
            self._release(job)
            raise
        queued = self._events.publish(
            "reply_queued", conversation_id=conversation_id, job_id=job.id, ahead=ahead
        )
        job.queued_seq = queued["seq"]
        self._jobs.put(job)

    def _release(self, job: ReplyJob) -> None:
        with self._lock:
            if self._active.get(job.conversation_id) is job:
                del self._active[job.conversation_id]
            self._live.pop(job.conversation_id, None)

    # --- the reply thread ---------------------------------------------------------------------
    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            with self._lock:
                self._running = job
            try:
                try:
                    with self._turns.turn("chat", job.cancelled):
                        self._reply(job)
                except WaitCancelled:  # stopped while an API request had the engine
                    self._reply(job)
            finally:
                with self._lock:
                    self._running = None
                self._release(job)

    def _reply(self, job: ReplyJob) -> None:
        base = {"conversation_id": job.conversation_id, "job_id": job.id}
        if job.cancelled.is_set():
            self._events.publish("reply_done", **base, message=None, stopped=True)
            return
        self._events.publish("reply_started", **base)
        reply = AgentReply()
        with self._lock:
            self._live[job.conversation_id] = reply
        try:
            conversation = self._store.get_conversation(job.conversation_id)
            messages = self._store.messages(job.conversation_id)
            self._agent.run(job, messages, conversation["tool_mode"], reply)
        except Exception as caught:
            error = caught if isinstance(caught, LocalWorkError) else None
            if error is None:
                log.exception("reply failed in %s", job.conversation_id)
                error = LocalWorkError("Writing the reply failed unexpectedly; see the log.")
            self._fail(job, base, reply, error)
            return
        reply.stopped = reply.stopped or job.cancelled.is_set()
        if not (reply.text or reply.calls or reply.stopped or reply.notice):
            reply.notice = self._empty_reply_notice()
        meta = reply.meta()
        message = None
        if reply.text or reply.calls or reply.notice:
            message = self._store.add_message(job.conversation_id, "assistant", reply.text, meta)
        self._events.publish(
            "reply_done", **base, message=message, stopped=reply.stopped, stats=meta["stats"]
        )

    def _empty_reply_notice(self) -> str:
        """Said instead of nothing when the model ends its turn at once, which a prompt format
        the model was not trained on often causes."""
        try:
            own = self._engine.ready(timeout=0).own_template
        except LocalWorkError:
            own = True
        advice = (
            "Retry, or ask in other words."
            if own
            else "This model has no chat template of its own: if this keeps happening, pick "
            "another prompt format for it under Models."
        )
        return f"The model ended its reply without writing anything. {advice}"

    def _fail(
        self, job: ReplyJob, base: dict[str, str], reply: AgentReply, error: LocalWorkError
    ) -> None:
        """Save the failure with its reason and advice, so a reload shows it as it was; tool
        calls already made stay part of the conversation, and so does the text written before
        it failed (a stream that dropped), marked as interrupted."""
        failure = describe_failure(error, self._engine.status())
        text = ""
        meta: dict[str, Any] = {"error": failure}  # without calls, only the record of a failure
        if reply.calls or reply.streaming:
            reply.stopped = True  # the reason is in the failure, not repeated as a notice
            text = reply.text or reply.streaming
            meta = {**reply.meta(), "interrupted": True, "error": failure}
        try:
            message = self._store.add_message(job.conversation_id, "assistant", text, meta)
        except NotFound:  # the conversation itself is gone: nothing to keep it in
            message = None
        self._events.publish("reply_failed", **base, error=failure, message=message)


def _failed_without_calls(message: StoredMessage) -> bool:
    meta = message["meta"]
    return message["role"] == "assistant" and bool(meta.get("error")) and not meta.get("tool_calls")
