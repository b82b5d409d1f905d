"""The agent loop: the model writes, calls tools, reads their results, and writes again.

One round: the engine takes a chat turn (``engine/base.ChatEngine``: how it writes the turn
and its calls is its own business), then each call is validated, shown to the user and
approved when it may change something, run through the tool runner of every tool source, and
its result fed back. The loop ends when the model answers in plain text, the round cap is
reached, it repeats itself, or the user stops. Only this policy lives here.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from localwork.chat.approvals import ApprovalGate
from localwork.chat.outcomes import describe_call, says_nothing
from localwork.chat.reply import AgentReply, ToolCallRecord
from localwork.chat.tool_budget import check_tool_room
from localwork.chat.turns import MAX_RESULT_CHARS, prompt_turns
from localwork.conversations.store import StoredMessage
from localwork.engine.base import ChatEngine, ReadyModel, ReasoningCallback, TurnRequest
from localwork.engine.toolcalls import ParsedCall
from localwork.errors import ContextOverflow, InvalidRequest
from localwork.events import EventBus
from localwork.settings import GenerationSettings, SettingsStore
from localwork.tools.approval import Approval
from localwork.tools.folders import Folders
from localwork.tools.path_choices import PathChoices
from localwork.tools.runner import ToolRunner
from localwork.tools.sandbox.grants import Scope, change_scope
from localwork.vocabulary import Message, ToolMode

# After its first call worked, a very small model is asked again, just after the results.
_ANSWER_NOW = "Using the result above, answer my request: {}"
_CHANGED_WHILE_WAITING = (
    "nothing was done: the shared folders or the file changed while this call waited for "
    "approval, so what was approved is no longer what would happen; call it again if it is "
    "still wanted"
)
_NO_ANSWER = (
    "The model wrote no answer of its own after its tool calls, so this is what the calls "
    "did, from their real results."
)
_CONTEXT_FULL = (
    "The tool results filled the model's context, so the assistant stopped here. Ask for "
    "less at a time, or raise the context length in Settings."
)
# The same call again after this many repeats ends the loop: the model is going round in circles.
_MAX_REPEATS = 2
_SAMPLING_KEYS = {"temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed"}


def _repeat_error(earlier: ToolCallRecord) -> str:
    outcome = (
        f"it failed with: {earlier.error}"
        if earlier.error
        else f"its result was: {json.dumps(earlier.result, ensure_ascii=False)[:2000]}"
    )
    return (
        f"you already made this exact call, so it was not run again; {outcome}. Use that to "
        "answer the user, or call something else"
    )


class AgentJob(Protocol):
    """The reply being written (the chat service's job)."""

    conversation_id: str
    id: str
    cancelled: threading.Event


class AgentLoop:
    def __init__(
        self,
        engine: ChatEngine,
        settings: SettingsStore,
        folders: Folders,
        approvals: ApprovalGate,
        events: EventBus,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._folders = folders
        self._approvals = approvals
        self._events = events

    def run(
        self, job: AgentJob, messages: list[StoredMessage], mode: ToolMode, reply: AgentReply
    ) -> None:
        """Write the reply to the conversation's newest message into ``reply``.

        Raises:
            InvalidRequest: tools are required but there are none to offer.
            LocalWorkError: the engine failed; ``reply`` keeps what was done until then.
        """
        ready = self._engine.ready()
        generation = self._settings.current.profile_for(ready.model_id).generation
        runner = self._folders.tool_runner() if mode != "off" else None
        if runner is not None and not runner.offered:  # no folder granted, no other source
            if mode == "required":
                raise InvalidRequest(
                    "Tool use is set to Required, but no folder is shared with the assistant and "
                    "no MCP server offers tools. Add a folder under Folders, or set tool use to "
                    "Auto."
                )
            runner = None
        if runner is not None:  # refused before it starts when the tools leave no room
            check_tool_room(
                self._engine,
                ready,
                runner.offered,
                generation.system_prompt.strip(),
                _newest_turn(prompt_turns(messages)),
                generation.max_tokens,
            )
        self._rounds(job, prompt_turns(messages), runner, mode, ready, generation, reply)
        if reply.calls and not reply.stopped and says_nothing(reply.text):
            reply.say_what_the_calls_did()
            reply.notice = reply.notice or _NO_ANSWER

    def _rounds(
        self,
        job: AgentJob,
        history: list[Message],
        runner: ToolRunner | None,
        mode: ToolMode,
        ready: ReadyModel,
        generation: GenerationSettings,
        reply: AgentReply,
    ) -> None:
        limit = min(MAX_RESULT_CHARS, ready.context_length)  # about a quarter of it in tokens
        request = _request_text(history)
        for round_index in range(generation.max_tool_rounds + 1):
            offer = runner is not None and round_index < generation.max_tool_rounds
            answer_only = mode == "required" and _answers_now(ready, reply)
            if answer_only and runner is not None and _only_changes(reply.calls, runner):
                # After a change, what a very small model says only restates the result, and
                # often wrongly ("Added 20 bytes" after adding 16): say what the call did.
                reply.say_what_the_calls_did()
                return
            turns = history + reply.turns(limit)
            if answer_only:  # a very small model answers best with the request just before
                turns.append({"role": "user", "content": _ANSWER_NOW.format(request)})
            try:
                turn = self._engine.take_turn(
                    TurnRequest(
                        messages=turns,
                        system=generation.system_prompt.strip(),
                        tools=runner.offered if offer and runner is not None else None,
                        must_call=offer and mode == "required" and round_index == 0,
                        watch_for_calls=runner is not None,
                        after_results=offer and bool(reply.calls),
                        answer_only=answer_only,
                        request=request,
                        rate_request=not reply.calls,
                        grants=self._folders.grants(),
                        path_choices=lambda: PathChoices.gather(self._folders.sandbox(), request),
                        sampling=generation.model_dump(include=_SAMPLING_KEYS),
                        max_tokens=generation.max_tokens,
                        overflow=self._settings.current.overflow,
                        on_text=self._shower(job, reply),
                        cancelled=job.cancelled,
                        on_reasoning=self._thinker(job, reply),
                        on_prompt=self._sizer(job),
                    )
                )
            except ContextOverflow:
                if not reply.calls:
                    raise
                reply.notice = _CONTEXT_FULL
                return
            if turn.dropped_messages > reply.dropped_messages:  # said once, not every round
                reply.dropped_messages = turn.dropped_messages
                self._events.publish(
                    "history_trimmed",
                    conversation_id=job.conversation_id,
                    job_id=job.id,
                    dropped_messages=turn.dropped_messages,
                )
            if turn.stats is not None:
                reply.stats = turn.stats
            if job.cancelled.is_set() or turn.stopped:
                reply.text, reply.stopped = turn.text, True
                return
            if turn.wanted_a_call:  # it wants more rounds than allowed
                reply.text = turn.text
                reply.notice = (
                    f"The assistant stopped after {generation.max_tool_rounds} rounds of "
                    "tool calls for this message (the limit is in Settings)."
                )
                return
            if turn.context_full:
                reply.text, reply.notice = turn.text, _CONTEXT_FULL
                return
            if answer_only or not turn.calls:
                reply.text = turn.text
                return
            reply.round_texts.append(turn.text)
            reply.streaming = ""  # what streamed so far is this round's text now
            if not self._run_calls(job, runner, reply, round_index, turn.calls):
                return

    def _shower(self, job: AgentJob, reply: AgentReply) -> Callable[[str], None]:
        """Where a turn's visible text goes: into the reply, and to the page as it comes."""

        def show(text: str) -> None:
            reply.streaming += text
            self._events.publish(
                "token", conversation_id=job.conversation_id, job_id=job.id, text=text
            )

        return show

    def _sizer(self, job: AgentJob) -> Callable[[int], None]:
        """What each turn's prompt holds, for the page's context meter while it is written."""

        def size(prompt_tokens: int) -> None:
            self._events.publish(
                "reply_context",
                conversation_id=job.conversation_id,
                job_id=job.id,
                prompt_tokens=prompt_tokens,
            )

        return size

    def _thinker(self, job: AgentJob, reply: AgentReply) -> ReasoningCallback:
        """Where a turn's reasoning goes: into the reply, and to the page's fold. Its time
        runs from the turn's start (the model thinks before its first word) to its last
        thought."""
        started = time.monotonic()

        def think(text: str, *, refiled: bool = False) -> None:
            now = time.monotonic()
            if refiled and reply.streaming.startswith(text):  # it was shown as the answer
                reply.streaming = reply.streaming[len(text) :]
            reply.reasoning += text
            reply.reasoning_seconds = round(now - started, 1)
            self._events.publish(
                "reasoning",
                conversation_id=job.conversation_id,
                job_id=job.id,
                text=text,
                refiled=refiled,
            )

        return think

    # --- running the calls -----------------------------------------------------------------------
    def _run_calls(
        self,
        job: AgentJob,
        runner: ToolRunner | None,
        reply: AgentReply,
        round_index: int,
        calls: list[ParsedCall],
    ) -> bool:
        """Run one round's calls in order; False when the loop must end here."""
        assert runner is not None
        for parsed in calls:
            record = ToolCallRecord(
                f"call{uuid.uuid4().hex[:8]}", round_index, parsed.name, parsed.arguments
            )
            reply.calls.append(record)
            if parsed.problem or parsed.name is None or parsed.arguments is None:
                self._finish(job, reply, record, error=f"{parsed.problem}; write the call again")
                continue
            earlier = [c for c in _since_last_change(reply.calls, runner) if c.key == record.key]
            if earlier:  # not run again: the model is told, with the result it already has
                self._finish(job, reply, record, error=_repeat_error(earlier[0]))
                if len(earlier) >= _MAX_REPEATS:
                    reply.notice = "The assistant stopped because it kept repeating a tool call."
                    return False
                continue
            # The file tools see grant changes at once; the approval scope is taken now.
            scope = change_scope(self._folders.sandbox().grants)
            key = runner.approval_key(parsed.name)  # "allow for this chat" is per source+tool
            approval = self._standing_approval(job, runner, parsed.name, key, scope)
            if approval is None:  # the user decides, after seeing what would change
                record.preview = runner.preview(parsed.name, parsed.arguments)
                if "error" in record.preview:  # it cannot succeed: nothing to ask
                    self._refuse(job, reply, record, runner, record.preview["error"])
                    continue
                record.status = "waiting"
                self._publish(job, reply, record)
                decision = self._approvals.wait(
                    job.conversation_id, record.id, key, job.cancelled, scope
                )
                if decision is None:
                    record.status = "stopped"
                    self._publish(job, reply, record)
                    reply.stopped = True
                    return False
                record.reason = decision.reason
                approval = decision.approval
                # (The grants may have changed meanwhile: the preview sees them as they are.)
                if approval == "approved" and runner.preview(parsed.name, parsed.arguments) != (
                    record.preview
                ):
                    self._refuse(job, reply, record, runner, _CHANGED_WHILE_WAITING)
                    continue
            record.status = "running"
            self._publish(job, reply, record)
            result = runner.run(
                parsed.name,
                parsed.arguments,
                approval=approval,
                reason=record.reason,
                conversation_id=job.conversation_id,
                on_progress=self._progress(job, reply, record),
            )
            record.audit_id = result.audit_id
            record.shown = result.shown
            if result.ok:
                self._finish(job, reply, record, result=result.output)
            else:
                denied = approval == "denied"
                self._finish(job, reply, record, error=result.error, denied=denied)
            if job.cancelled.is_set():
                reply.stopped = True
                return False
        return True

    def _progress(
        self, job: AgentJob, reply: AgentReply, record: ToolCallRecord
    ) -> Callable[[str], None]:
        """A running call's progress, shown on its card as it comes."""

        def note(words: str) -> None:
            record.progress = words
            self._publish(job, reply, record)

        return note

    def _standing_approval(
        self, job: AgentJob, runner: ToolRunner, tool: str, key: str, scope: Scope
    ) -> Approval | None:
        """How the runner may treat a call without asking; None when the user must decide.
        ``key``: what "allow for this chat" is kept under (``ToolRunner.approval_key``)."""
        gate = self._approvals
        if not runner.needs_approval(tool) or gate.policy == "refuse":
            return "ask"  # reads just run; under "refuse" the runner says approval is required
        if gate.policy == "approve" or gate.is_allowed(job.conversation_id, key, scope):
            return "approved"
        return None

    def _refuse(
        self,
        job: AgentJob,
        reply: AgentReply,
        record: ToolCallRecord,
        runner: ToolRunner,
        error: str,
    ) -> None:
        """Record in the audit log a call that will not run, and tell the model why."""
        refused = runner.refuse(record.tool or "", record.arguments, error, job.conversation_id)
        record.audit_id = refused.audit_id
        self._finish(job, reply, record, error=refused.error)

    def _finish(
        self,
        job: AgentJob,
        reply: AgentReply,
        record: ToolCallRecord,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        denied: bool = False,
    ) -> None:
        record.result, record.error = result, error
        record.status = "done" if error is None else ("denied" if denied else "failed")
        record.outcome = describe_call(record.to_dict())
        self._publish(job, reply, record)

    def _publish(self, job: AgentJob, reply: AgentReply, record: ToolCallRecord) -> None:
        self._events.publish(
            "tool_call",
            conversation_id=job.conversation_id,
            job_id=job.id,
            call=record.to_dict(),
            text=reply.round_texts[record.round],
        )


def _answers_now(ready: ReadyModel, reply: AgentReply) -> bool:
    """Whether this round must answer (with tool use required): a very small model's first
    call has worked."""
    return ready.very_small and any(call.status == "done" for call in reply.calls)


def _only_changes(calls: list[ToolCallRecord], runner: ToolRunner) -> bool:
    """Whether every call that worked changed files (a read's answer needs the model)."""
    done = [call.tool for call in calls if call.status == "done" and call.tool]
    return bool(done) and all(runner.needs_approval(tool) for tool in done)


def _newest_turn(history: list[Message]) -> list[Message]:
    """The user's newest message and what follows it: what trimming never leaves out."""
    for index in range(len(history) - 1, -1, -1):
        if history[index]["role"] == "user":
            return history[index:]
    return history[-1:]


def _request_text(history: list[Message]) -> str:
    """The user's newest message: the request the call's new names come from."""
    for message in reversed(history):
        if message["role"] == "user":
            return str(message.get("content") or "")
    return ""


def _since_last_change(calls: list[ToolCallRecord], runner: ToolRunner) -> list[ToolCallRecord]:
    """The calls after the last one that changed files: a repeat before it may now differ."""
    start = 0
    for index, call in enumerate(calls[:-1]):
        if call.status == "done" and call.tool and runner.needs_approval(call.tool):
            start = index + 1
    return calls[start:-1]
