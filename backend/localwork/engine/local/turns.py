"""Chat turns over an engine that writes after prompt text (the local worker, the fake).

One turn: render the conversation in the model's own chat template (tools offered the way it
knows, or in a generic form), fitted into the context; generate until the reply ends or the
model starts a tool call (its family's marker is a stop string); then let it write the call
under a grammar built from the tools' schemas and the paths that can work
(``engine/local/guided.py``), so even a tiny model writes a well-formed call. A reply that
opens like a bare JSON call is held back from the screen until it is clear whether it is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from localwork.engine.base import (
    Generation,
    LoadedModel,
    ReadyModel,
    TextEngine,
    TurnReply,
    TurnRequest,
)
from localwork.engine.budget import BudgetedPrompt, fit_conversation
from localwork.engine.local.guided import GuidedCalls
from localwork.engine.local.tool_prompt import render_with_tools, render_without_tools
from localwork.engine.reasoning import OPEN_TAG, Piece, ReasoningSplitter
from localwork.engine.toolcalls import (
    CALL_MARKERS,
    HeldBackText,
    ParsedCall,
    answer_grammar,
    call_opener,
    parse_reply,
    without_response_tags,
)
from localwork.tools.base import Tool
from localwork.vocabulary import Message

# A model this small chains calls at random once one has worked (measured with the bundled 135M
# model: after a create it moved and deleted other files, after a listing it asked to move
# one), so its reply is the answer to its first successful call. Larger models chain calls.
SMALL_MODEL_BYTES = 600 * 1024 * 1024
# A guided call needs room for its arguments even when little of the reply budget is left.
_MIN_CALL_TOKENS = 64
# How many first tokens of an answer after tool results the answer grammar binds: enough to
# finish writing a call marker, which takes several tokens where it is not a special one.
_ANSWER_START_TOKENS = 8


@dataclass
class _Written:
    text: str  # what the model said, without call markup
    opener: str | None  # the marker that started a call, if one did
    calls: list[ParsedCall]  # calls written without a marker (bare JSON), parsed
    result: Generation  # what the engine reports about it
    reasoning: str  # what it wrote inside <think>…</think>


class _Thoughts:
    """Splits the streamed reply at ``<think>`` tags (``engine/reasoning.py``): the answer
    goes on to the visible text, the reasoning to the turn's reasoning callback."""

    def __init__(self, visible: HeldBackText, turn: TurnRequest, prompt: str) -> None:
        self._visible = visible
        self._on_reasoning = turn.on_reasoning
        # A template that ends the prompt with <think> makes the reply start inside it.
        self.splitter = ReasoningSplitter(starts_in_reasoning=prompt.rstrip().endswith(OPEN_TAG))

    def feed(self, delta: str) -> None:
        self._give(self.splitter.feed(delta))

    def finish(self) -> None:
        self._give(self.splitter.finish())

    def _give(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            if piece.kind == "text":
                self._visible.add(piece.text)
                continue
            if piece.kind == "refiled":
                self._visible.take_back()
            if self._on_reasoning is not None:
                self._on_reasoning(piece.text, refiled=piece.kind == "refiled")


class PromptTextTurns:
    """A ``ChatEngine`` over a ``TextEngine``."""

    def __init__(self, engine: TextEngine) -> None:
        self._engine = engine
        self._guided = GuidedCalls(engine)

    def ready(self, timeout: float = 300.0) -> ReadyModel:
        loaded = self._engine.ensure_ready(timeout)
        return ReadyModel(
            model_id=loaded.model.id,
            context_length=loaded.plan.n_ctx,
            very_small=loaded.model.size_bytes < SMALL_MODEL_BYTES,
            can_rate_requests=loaded.can_score,
            native_tools=loaded.template.supports_tools,
            grammar=True,
            counts_tokens=True,
            own_template=loaded.template.is_model_template,
        )

    def cancel(self) -> None:
        self._engine.cancel()

    def count_conversation(self, messages: list[Message]) -> int:
        loaded = self._engine.ensure_ready()
        return self._engine.count_tokens(render_without_tools(loaded.template, messages))

    def count_tools(self, tools: Mapping[str, Tool]) -> int:
        loaded = self._engine.ensure_ready()
        if not tools:
            return 0
        probe: list[Message] = [{"role": "user", "content": "?"}]
        schemas = [tool.schema() for tool in tools.values()]
        offered = self._engine.count_tokens(render_with_tools(loaded.template, probe, schemas, []))
        bare = self._engine.count_tokens(render_without_tools(loaded.template, probe))
        return max(0, offered - bare)

    def take_turn(self, turn: TurnRequest) -> TurnReply:
        loaded = self._engine.ensure_ready()
        prompt = self._prompt(loaded, turn)
        if turn.on_prompt is not None:
            turn.on_prompt(prompt.prompt_tokens)
        said = TurnReply("", [], dropped_messages=prompt.dropped_messages)
        if turn.must_call:  # the turn is a call: it starts with the call's marker at once
            text, opener = "", call_opener(loaded.template.source)
        else:
            written = self._write(prompt, turn)
            said.stats = written.result
            text = written.text
            said.reasoning = written.reasoning
            if turn.cancelled.is_set() or written.result["stop_reason"] == "cancelled":
                return replace(said, text=text, stopped=True)
            if turn.answer_only:  # what it wrote is the answer; no call is made
                return replace(said, text=text)
            if written.opener is not None and turn.tools is None:
                return replace(said, text=text, wanted_a_call=True)
            if written.opener is None:
                return replace(said, text=text, calls=written.calls)
            opener = written.opener
        guided = self._guided_call(loaded, prompt, turn, text, opener)
        if turn.cancelled.is_set():
            return replace(said, text=text, stopped=True)
        if guided is None:
            return replace(said, text=text, context_full=True)
        return replace(said, text=text, calls=[guided])

    def _prompt(self, loaded: LoadedModel, turn: TurnRequest) -> BudgetedPrompt:
        tools = None if turn.answer_only else turn.tools
        if tools is None:

            def render(messages: list[Message]) -> str:
                return render_without_tools(loaded.template, messages)

        else:
            schemas = [tool.schema() for tool in tools.values()]

            def render(messages: list[Message]) -> str:
                return render_with_tools(loaded.template, messages, schemas, turn.grants)

        return fit_conversation(
            system={"role": "system", "content": turn.system} if turn.system else None,
            history=turn.messages,
            n_ctx=loaded.plan.n_ctx,
            max_tokens=turn.max_tokens,
            render=render,
            count=self._engine.count_tokens,
            overflow=turn.overflow,
        )

    def _write(self, prompt: BudgetedPrompt, turn: TurnRequest) -> _Written:
        """Stream text until the reply ends or, when calls are watched for, a call marker
        appears; bare-JSON calls are read out of the text only when tools are offered.
        Reasoning (``<think>``…) goes to ``turn.on_reasoning``, never into the text."""
        offer = turn.tools is not None
        visible = HeldBackText(turn.on_text, watching=offer)
        thoughts = _Thoughts(visible, turn, prompt.text)
        after_results = turn.after_results  # an answer to tool results: its start is bound
        grammar = answer_grammar(calls=not turn.answer_only) if after_results else None
        grammar_tokens = _ANSWER_START_TOKENS if after_results else None
        if turn.response_schema is not None:  # the whole reply is JSON of the caller's schema
            grammar, grammar_tokens = {"schema": turn.response_schema}, None
        watch = turn.watch_for_calls and turn.response_schema is None
        stop = list(CALL_MARKERS) if watch else []
        stop += [marker for marker in turn.stop or [] if marker not in stop]
        result = self._engine.generate(
            prompt.text,
            prompt.max_tokens,
            turn.sampling,
            thoughts.feed,
            grammar=grammar,
            grammar_tokens=grammar_tokens,
            stop=stop or None,
        )
        thoughts.finish()
        text = without_response_tags(visible.text)
        opener = result["stop_text"] if result["stop_text"] in CALL_MARKERS else None
        written = _Written(text, opener, [], result, thoughts.splitter.reasoning)
        if offer and written.opener is None and turn.response_schema is None:
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
        turn: TurnRequest,
        text: str,
        opener: str,
    ) -> ParsedCall | None:
        """Let the model write one call, its tool and paths constrained to what can work
        (``engine/local/guided.py``); None when the context has no room left for one."""
        assert turn.tools is not None  # a call is guided only when tools are offered
        lead = text + opener + ("\n" if opener == "<tool_call>" else "")
        lead_in = prompt.text + lead
        used = self._engine.count_tokens(lead_in)
        room = min(
            max(_MIN_CALL_TOKENS, prompt.max_tokens - (used - prompt.prompt_tokens)),
            loaded.plan.n_ctx - used,
        )
        if room < _MIN_CALL_TOKENS:
            return None
        # The first call follows from the request alone; later ones from what the model saw.
        rated = turn.request if loaded.can_score and turn.rate_request else None
        return self._guided.write(
            lead_in, rated, room, turn.tools, turn.path_choices(), turn.sampling
        )
