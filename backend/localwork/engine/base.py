"""The engine seam: what the chat layer asks of an engine, and the typed replies it gets.

Two levels:

- ``ChatEngine`` is what the agent loop (``chat/agent.py``) uses: one **chat turn** at a
  time. In go the conversation (the OpenAI message shape of ``chat/turns.py``), the tools on
  offer, whether the turn must call one, sampling and the reply budget; out come the text
  (streamed to a callback), the tool calls it made, and its stats. The loop keeps only
  policy: calls → validate → approve → run → feed back, rounds, the repeat guard. How a turn
  is written — a prompt in the model's own template, stop markers, a grammar-guided call, a
  server's native tool calls — is the engine's business.
- ``TextEngine`` is the level below, for engines that take rendered prompt text: the local
  worker (``ModelRuntime``, ``engine/local/runtime.py``: llama.cpp in a crash-isolated
  process) and the tests' in-process fake (``tests/support/fake_engine.py``).
  ``engine/local/turns.py`` takes chat turns over any ``TextEngine``.

A new engine (e.g. a remote OpenAI-compatible server) implements ``ChatEngine`` with the
contract written on it, and says what went wrong with the ``LocalWorkError`` subclasses of
``localwork.errors`` (``EngineNotReady``, ``ContextOverflow``, ``GenerationFailed``,
``EngineCrashed``, the ``Remote*`` errors...), whose codes the chat layer turns into advice.
Choosing, loading and closing a model is the app's business, not the chat layer's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

from localwork.engine.local.context_plan import ContextPlan
from localwork.engine.local.template import ChatTemplate
from localwork.engine.toolcalls import ParsedCall
from localwork.models.gguf import GgufInfo
from localwork.models.registry import InstalledModel
from localwork.settings import FolderGrant
from localwork.tools.base import Tool
from localwork.tools.path_choices import PathChoices
from localwork.vocabulary import Message

EngineState = Literal["idle", "loading", "ready", "error"]

# Why a reply ended: the model's end-of-generation token, the ``max_tokens`` limit, a stop
# string, or ``cancel()``.
StopReason = Literal["eos", "length", "stop", "cancelled"]


class Generation(TypedDict):
    """What ``TextEngine.generate`` reports about the reply it wrote (its text went to
    ``on_token``). A dict, because it is kept as it is: in a reply's stored ``meta["stats"]``
    and in ``status()["last_stats"]``."""

    stop_reason: StopReason
    stop_text: str | None  # the caller's stop string that ended it, None for any other end
    prompt_tokens: int
    prompt_tokens_reused: int  # of those, how many the engine had cached from before
    completion_tokens: int
    time_to_first_token_ms: float
    generation_seconds: float
    tokens_per_second: float | None  # None when too few tokens were written to tell


class EngineStatus(TypedDict):
    """``TextEngine.status()``: what the status line shows, and what a failed reply's advice
    reads (``chat/failures.py``: the state after a crash, the model's context lengths)."""

    state: EngineState
    model: dict[str, Any] | None  # ``LoadedModel.to_dict()`` of the model that is ready
    wanted: str | None  # the model id being loaded or loaded
    wanted_label: str | None  # its name, for the status line while it loads
    error: dict[str, str] | None  # the last load's error (``LocalWorkError.to_dict()``)
    last_stats: Generation | None
    engine_pid: int | None
    gpu_offload: bool  # whether the engine can use a GPU


@dataclass(frozen=True)
class LoadedModel:
    """The model an engine has ready, and how it was set up."""

    model: InstalledModel
    info: GgufInfo
    plan: ContextPlan  # the context asked for; ``plan.n_ctx`` is what prompts must fit in
    template: ChatTemplate  # how prompts are written, and the reply's end markers
    engine_context: dict[str, int]  # what the engine reports it actually built
    can_score: bool = False  # the engine rates continuations by likelihood (``score``)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.model.to_dict(),
            "architecture": self.info.architecture,
            "quantization": self.info.quantization,
            "training_context": self.info.context_length,
            "n_ctx": self.plan.n_ctx,
            "n_batch": self.plan.n_batch,
            "n_threads": self.plan.n_threads,
            "prompt_format": self.template.format_name,
        }


@runtime_checkable
class TextEngine(Protocol):
    """An engine that writes after rendered prompt text (see the module's note). Calls come
    from the chat's reply thread one at a time, except ``cancel`` and ``status``, which may
    come from any thread meanwhile."""

    def status(self) -> EngineStatus:
        """Where the engine is (loading, ready, failed) and what it last did."""
        ...

    def ensure_ready(self, timeout: float = 300.0) -> LoadedModel:
        """Wait up to ``timeout`` seconds for a load in progress and return the model.

        Raises:
            EngineNotReady: nothing is loaded, or loading took longer than ``timeout``.
            LocalWorkError: the last load failed; its code and message are kept.
        """
        ...

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is as a prompt for the loaded model."""
        ...

    def generate(
        self,
        prompt: str,
        max_tokens: int,
        sampling: dict[str, Any],
        on_token: Callable[[str], None],
        *,
        grammar: dict[str, Any] | None = None,
        grammar_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> Generation:
        """Write a reply after ``prompt``, at most ``max_tokens`` tokens, its text streamed
        to ``on_token`` as it comes. ``sampling`` holds the generation settings' temperature,
        top_p, top_k, min_p, repeat_penalty and seed. ``grammar`` ({"schema",
        "property_order"} or {"gbnf"}) constrains the reply, only its first
        ``grammar_tokens`` tokens when that is given. The reply ends at the first ``stop``
        string, which is not shown; free text (no grammar, or one only for how it starts)
        also ends at the loaded prompt format's end markers (``template.stops``).
        ``stop_text`` names only a matched ``stop`` of the caller's. A cancelled reply keeps
        what it wrote and reports ``stop_reason`` "cancelled".

        Raises:
            ContextOverflow: the prompt and ``max_tokens`` do not fit in the context.
            LocalWorkError: the engine failed (e.g. ``EngineCrashed``, ``GenerationFailed``).
        """
        ...

    def score(self, prompt: str, continuations: list[str]) -> list[float | None]:
        """The log-likelihood of each continuation after ``prompt``; None for those not
        scored because the request was cancelled. Only called when the loaded model says
        ``can_score``."""
        ...

    def cancel(self) -> None:
        """Stop the request in progress, if any, keeping what it produced."""
        ...


# --- the chat turn ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyModel:
    """What the agent loop needs to know of the model that takes its turns."""

    model_id: str
    context_length: int  # tokens a turn's prompt and reply must fit in
    very_small: bool  # a model this small is helped to answer after one working call
    can_rate_requests: bool  # it rates a request against each tool's uses (guided choice)
    # How the engine works, for whoever needs to know (the Models pane, the local API):
    native_tools: bool = False  # the server or template takes tools and returns calls itself
    grammar: bool = False  # it can constrain what it writes with a grammar
    counts_tokens: bool = True  # its token counts are exact (else estimated from characters)
    # False: the model has no chat template of its own and a fallback prompt format is used.
    own_template: bool = True


class ReasoningCallback(Protocol):
    def __call__(self, text: str, *, refiled: bool = False) -> None: ...


@dataclass
class TurnRequest:
    """One turn asked of an engine: the assistant's next message in ``messages``."""

    messages: list[Message]  # the conversation so far, without the system prompt
    system: str  # the user's system prompt ("" for none)
    tools: Mapping[str, Tool] | None  # the tools on offer by name; None: this turn offers none
    must_call: bool  # tool use is required and nothing was called yet: the turn is a call
    # Tools exist for this reply even when this turn offers none (its round limit is
    # reached): a call it tries to make is reported, not shown as text.
    watch_for_calls: bool
    after_results: bool  # the turn follows tool results: an answer, not an imitated result
    answer_only: bool  # the turn is the answer: no call may start
    request: str  # the user's newest message, for an engine that rates it against the tools
    rate_request: bool  # the first call of the reply follows from the request alone
    grants: list[FolderGrant]  # the folders the file tools may use, said in the prompt
    path_choices: Callable[[], PathChoices]  # the paths a guided call may use, made on demand
    sampling: dict[str, Any]  # temperature, top_p, top_k, min_p, repeat_penalty, seed
    max_tokens: int
    overflow: Literal["trim_oldest", "stop"]  # what to do with history that does not fit
    on_text: Callable[[str], None]  # the turn's visible text, as it is written
    cancelled: threading.Event  # set when the user stops the reply
    # The model's reasoning (``<think>`` or a server's reasoning field), as it is written;
    # ``refiled`` True: the text is what ``on_text`` had already been given, which turned
    # out to be reasoning (``engine/reasoning.py``), so the caller moves it.
    on_reasoning: ReasoningCallback | None = None
    # The prompt's size in tokens once the turn has fitted it into the context, before
    # anything is written (exact for the local engine, estimated for a server's): what the
    # context holds while the reply is written.
    on_prompt: Callable[[int], None] | None = None
    # The caller's own stop strings: the reply ends before the first one (the local API's
    # ``stop``). None: only the engine's own ends.
    stop: list[str] | None = None
    # The reply must be one JSON value of this schema (the local API's ``response_format``):
    # the local engine writes it under a grammar, a server is asked for it.
    response_schema: dict[str, Any] | None = None


@dataclass
class TurnReply:
    """What a turn wrote."""

    text: str  # what the model said, without call markup
    calls: list[ParsedCall]  # the calls it made, in order (checked by the runner later)
    stats: Generation | None = None  # None when no text was generated (a required call)
    stopped: bool = False  # the user stopped it
    # It started a call although the turn offered no tools (the round limit was reached).
    wanted_a_call: bool = False
    context_full: bool = False  # no room was left in the context for the call it started
    dropped_messages: int = 0  # the oldest messages left out so the prompt fits
    reasoning: str = ""  # what the model thought before it answered (never fed back)


@runtime_checkable
class ChatEngine(Protocol):
    """What the agent loop asks of an engine: one chat turn at a time (see the module's note).
    ``cancel`` may come from any thread meanwhile."""

    def ready(self, timeout: float = 300.0) -> ReadyModel:
        """Wait for the model to be ready (a load in progress) and say what it is.

        Raises:
            EngineNotReady: no model is loaded or loading.
            LocalWorkError: the last load failed; its code and message are kept.
        """
        ...

    def take_turn(self, turn: TurnRequest) -> TurnReply:
        """Write the assistant's next message, streaming its text to ``turn.on_text``.

        Raises:
            ContextOverflow: the conversation does not fit in the context.
            LocalWorkError: the engine failed (e.g. ``EngineCrashed``, ``GenerationFailed``).
        """
        ...

    def count_conversation(self, messages: list[Message]) -> int:
        """How many tokens ``messages`` (system prompt first, if any) take as a prompt: the
        context meter's figure. Exact, or estimated when the engine cannot count
        (``ReadyModel.counts_tokens``).

        Raises:
            EngineNotReady: no model is ready to count with.
        """
        ...

    def count_tools(self, tools: Mapping[str, Tool]) -> int:
        """How many tokens offering ``tools`` adds to a prompt, put there the way this engine
        puts them (a template's own tool format, the prompted instruction, a server's native
        ``tools``): the tool list's cost, before any message.

        Raises:
            EngineNotReady: no model is ready to count with.
        """
        ...

    def cancel(self) -> None:
        """Stop the turn in progress, if any, keeping what it wrote."""
        ...
