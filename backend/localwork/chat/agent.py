"""The agent loop: the model writes, calls file tools, reads their results, and writes again.

One round: generate until the model starts a tool call (its family's marker is a stop string),
then let it write the call under a grammar built from the tools' schemas, so even a tiny model
produces a well-formed call with valid arguments. Validate, ask the user when the call changes
files, run it through the sandboxed runner, and feed the result back. The loop ends when the
model answers in plain text, the round cap is reached, it repeats itself, or the user stops.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from localwork.chat.approvals import ApprovalGate
from localwork.chat.budget import BudgetedPrompt, fit_conversation
from localwork.chat.guided import GuidedCalls
from localwork.chat.outcomes import describe_call, says_nothing
from localwork.chat.reply import AgentReply, ToolCallRecord
from localwork.chat.tool_prompt import render_with_tools, render_without_tools
from localwork.chat.toolcalls import (
    CALL_MARKERS,
    ParsedCall,
    answer_grammar,
    call_opener,
    could_open_a_call,
    parse_reply,
    without_response_tags,
)
from localwork.chat.turns import MAX_RESULT_CHARS, prompt_turns
from localwork.conversations.store import StoredMessage
from localwork.engine.base import Engine, Generation, LoadedModel
from localwork.errors import ContextOverflow, InvalidRequest
from localwork.events import EventBus
from localwork.settings import GenerationSettings, SettingsStore
from localwork.tools.approval import Approval
from localwork.tools.folders import Folders
from localwork.tools.path_choices import PathChoices
from localwork.tools.runner import ToolRunner
from localwork.tools.sandbox.grants import Scope, change_scope
from localwork.vocabulary import Message, ToolMode

# A model this small chains calls at random once one has worked (measured with the bundled 135M
# model: after a create it moved and deleted other files, after a listing it asked to move
# one), so its reply is the answer to its first successful call. Larger models chain calls.
SMALL_MODEL_BYTES = 600 * 1024 * 1024
# A guided call needs room for its arguments even when little of the reply budget is left.
_MIN_CALL_TOKENS = 64
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
# How many first tokens of an answer after tool results the answer grammar binds: enough to
# finish writing a call marker, which takes several tokens where it is not a special one.
_ANSWER_START_TOKENS = 8
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


@dataclass
class _Written:
    text: str  # what the model said, without call markup
    opener: str | None  # the marker that started a call, if one did
    calls: list[ParsedCall]  # calls written without a marker (bare JSON), parsed
    result: Generation  # what the engine reports about it


class _VisibleText:
    """Streams a round's text to the UI. When tools are offered, a reply that opens like a
    bare JSON call is held back until it is clear whether it is one."""

    def __init__(self, publish: Any, watch_for_calls: bool) -> None:
        self._publish = publish
        self._parts: list[str] = []
        self._sent = 0  # how many of the parts were published
        self._watching = watch_for_calls

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(self, piece: str) -> None:
        self._parts.append(piece)
        if self._watching:
            if could_open_a_call(self.text):
                return
            self._watching = False  # decided: plain text, stream it from here on
        self.flush()

    def flush(self) -> None:
        unsent = "".join(self._parts[self._sent :])
        self._sent = len(self._parts)
        if unsent:
            self._publish(unsent)


class AgentLoop:
    def __init__(
        self,
        runtime: Engine,
        settings: SettingsStore,
        folders: Folders,
        approvals: ApprovalGate,
        events: EventBus,
    ) -> None:
        self._runtime = runtime
        self._settings = settings
        self._folders = folders
        self._approvals = approvals
        self._events = events
        self._guided = GuidedCalls(runtime)

    def run(
        self, job: AgentJob, messages: list[StoredMessage], mode: ToolMode, reply: AgentReply
    ) -> None:
        """Write the reply to the conversation's newest message into ``reply``.

        Raises:
            InvalidRequest: tools are required but no folder is shared.
            LocalWorkError: the engine failed; ``reply`` keeps what was done until then.
        """
        loaded = self._runtime.ensure_ready()
        settings = self._settings.current
        generation = settings.profile_for(loaded.model.id).generation
        runner = self._folders.tool_runner() if mode != "off" else None
        if runner is not None and not runner.offered:  # no folder granted, no other source
            if mode == "required":
                raise InvalidRequest(
                    "Tool use is set to Required, but no folder is shared with the assistant. "
                    "Add a folder under Folders, or set tool use to Auto."
                )
            runner = None
        self._rounds(job, prompt_turns(messages), runner, mode, loaded, generation, reply)
        if reply.calls and not reply.stopped and says_nothing(reply.text):
            reply.say_what_the_calls_did()
            reply.notice = reply.notice or _NO_ANSWER

    def _rounds(
        self,
        job: AgentJob,
        history: list[Message],
        runner: ToolRunner | None,
        mode: ToolMode,
        loaded: LoadedModel,
        generation: GenerationSettings,
        reply: AgentReply,
    ) -> None:
        limit = min(MAX_RESULT_CHARS, loaded.plan.n_ctx)  # about a quarter of it in tokens
        request = _request_text(history)
        for round_index in range(generation.max_tool_rounds + 1):
            offer = runner is not None and round_index < generation.max_tool_rounds
            answer_only = mode == "required" and _answers_now(loaded, reply)
            if answer_only and runner is not None and _only_changes(reply.calls, runner):
                # After a change, what a very small model says only restates the result, and
                # often wrongly ("Added 20 bytes" after adding 16): say what the call did.
                reply.say_what_the_calls_did()
                return
            turns = history + reply.turns(limit)
            if answer_only:  # a very small model answers best with the request just before
                turns.append({"role": "user", "content": _ANSWER_NOW.format(request)})
            try:
                prompt = self._prompt(
                    loaded, generation, turns, runner if offer and not answer_only else None
                )
            except ContextOverflow:
                if not reply.calls:
                    raise
                reply.notice = _CONTEXT_FULL
                return
            if prompt.dropped_messages > reply.dropped_messages:  # said once, not every round
                reply.dropped_messages = prompt.dropped_messages
                self._events.publish(
                    "history_trimmed",
                    conversation_id=job.conversation_id,
                    job_id=job.id,
                    dropped_messages=prompt.dropped_messages,
                )
            opener: str | None
            if offer and mode == "required" and round_index == 0:
                text, opener, calls = "", call_opener(loaded.template.source), []
            else:
                written = self._write(
                    job, reply, prompt, generation, offer, runner is not None, answer_only
                )
                text, opener, calls = written.text, written.opener, written.calls
                reply.stats = written.result
                if job.cancelled.is_set() or written.result["stop_reason"] == "cancelled":
                    reply.text, reply.stopped = text, True
                    return
                if answer_only:  # what it wrote is the answer; no further call is made
                    reply.text = text
                    return
                if opener is not None and not offer:  # it wants more rounds than allowed
                    reply.text = text
                    reply.notice = (
                        f"The assistant stopped after {generation.max_tool_rounds} rounds of "
                        "tool calls for this message (the limit is in Settings)."
                    )
                    return
                if opener is None and not calls:
                    reply.text = text
                    return
            if opener is not None:
                assert runner is not None
                guided = self._guided_call(
                    loaded, prompt, request, reply, text, opener, runner, generation
                )
                if job.cancelled.is_set():
                    reply.text, reply.stopped = text, True
                    return
                if guided is None:
                    reply.text, reply.notice = text, _CONTEXT_FULL
                    return
                calls = [guided]
            reply.round_texts.append(text)
            reply.streaming = ""  # what streamed so far is this round's text now
            if not self._run_calls(job, runner, reply, round_index, calls):
                return

    # --- writing ---------------------------------------------------------------------------------
    def _prompt(
        self,
        loaded: LoadedModel,
        generation: GenerationSettings,
        turns: list[Message],
        runner: ToolRunner | None,
    ) -> BudgetedPrompt:
        system = generation.system_prompt.strip()
        if runner is None:

            def render(messages: list[Message]) -> str:
                return render_without_tools(loaded.template, messages)

        else:
            schemas = [tool.schema() for tool in runner.offered.values()]
            grants = self._folders.grants()

            def render(messages: list[Message]) -> str:
                return render_with_tools(loaded.template, messages, schemas, grants)

        return fit_conversation(
            system={"role": "system", "content": system} if system else None,
            history=turns,
            n_ctx=loaded.plan.n_ctx,
            max_tokens=generation.max_tokens,
            render=render,
            count=self._runtime.count_tokens,
            overflow=self._settings.current.overflow,
        )

    def _write(
        self,
        job: AgentJob,
        reply: AgentReply,
        prompt: BudgetedPrompt,
        generation: GenerationSettings,
        offer: bool,
        watch_calls: bool,
        answer_only: bool = False,
    ) -> _Written:
        """Stream text until the reply ends or, when ``watch_calls``, a call marker appears;
        bare-JSON calls are read out of the text only when tools are on ``offer``."""

        def show(text: str) -> None:
            reply.streaming += text
            self._events.publish(
                "token", conversation_id=job.conversation_id, job_id=job.id, text=text
            )

        visible = _VisibleText(show, watch_for_calls=offer)
        after_results = offer and bool(reply.calls)  # an answer, not an imitated result
        result = self._runtime.generate(
            prompt.text,
            prompt.max_tokens,
            generation.model_dump(include=_SAMPLING_KEYS),
            visible.add,
            grammar=answer_grammar(calls=not answer_only) if after_results else None,
            grammar_tokens=_ANSWER_START_TOKENS if after_results else None,
            stop=list(CALL_MARKERS) if watch_calls else None,
        )
        written = _Written(without_response_tags(visible.text), result["stop_text"], [], result)
        if offer and written.opener is None:
            parsed = parse_reply(written.text)
            if parsed.calls:  # calls in a form without a marker, e.g. bare JSON
                written.text, written.calls = parsed.text, parsed.calls
        if not written.calls:
            visible.flush()
        return written

    def _guided_call(
        self,
        loaded: LoadedModel,
        prompt: BudgetedPrompt,
        request: str,
        reply: AgentReply,
        text: str,
        opener: str,
        runner: ToolRunner,
        generation: GenerationSettings,
    ) -> ParsedCall | None:
        """Let the model write one call, its tool and paths constrained to what can work
        (``chat/guided.py``); None when the context has no room left for one."""
        lead = text + opener + ("\n" if opener == "<tool_call>" else "")
        lead_in = prompt.text + lead
        used = self._runtime.count_tokens(lead_in)
        room = min(
            max(_MIN_CALL_TOKENS, prompt.max_tokens - (used - prompt.prompt_tokens)),
            loaded.plan.n_ctx - used,
        )
        if room < _MIN_CALL_TOKENS:
            return None
        # The first call follows from the request alone; later ones from what the model saw.
        rated = request if loaded.can_score and not reply.calls else None
        return self._guided.write(
            lead_in,
            rated,
            room,
            runner.offered,
            PathChoices.gather(self._folders.sandbox(), request),
            generation.model_dump(include=_SAMPLING_KEYS),
        )

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
            approval = self._standing_approval(job, runner, parsed.name, scope)
            if approval is None:  # the user decides, after seeing what would change
                record.preview = runner.preview(parsed.name, parsed.arguments)
                if "error" in record.preview:  # it cannot succeed: nothing to ask
                    self._refuse(job, reply, record, runner, record.preview["error"])
                    continue
                record.status = "waiting"
                self._publish(job, reply, record)
                decision = self._approvals.wait(
                    job.conversation_id, record.id, parsed.name, job.cancelled, scope
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
            )
            record.audit_id = result.audit_id
            if result.ok:
                self._finish(job, reply, record, result=result.output)
            else:
                denied = approval == "denied"
                self._finish(job, reply, record, error=result.error, denied=denied)
            if job.cancelled.is_set():
                reply.stopped = True
                return False
        return True

    def _standing_approval(
        self, job: AgentJob, runner: ToolRunner, tool: str, scope: Scope
    ) -> Approval | None:
        """How the runner may treat a call without asking; None when the user must decide."""
        gate = self._approvals
        if not runner.needs_approval(tool) or gate.policy == "refuse":
            return "ask"  # reads just run; under "refuse" the runner says approval is required
        if gate.policy == "approve" or gate.is_allowed(job.conversation_id, tool, scope):
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


def _answers_now(loaded: LoadedModel, reply: AgentReply) -> bool:
    """Whether this round must answer (with tool use required): a very small model's first
    call has worked."""
    small = loaded.model.size_bytes < SMALL_MODEL_BYTES
    return small and any(call.status == "done" for call in reply.calls)


def _only_changes(calls: list[ToolCallRecord], runner: ToolRunner) -> bool:
    """Whether every call that worked changed files (a read's answer needs the model)."""
    done = [call.tool for call in calls if call.status == "done" and call.tool]
    return bool(done) and all(runner.needs_approval(tool) for tool in done)


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
