"""What the chat layer needs from an engine, and the typed replies an engine gives.

An engine is what writes text for the chat layer (``chat/agent.py``, ``chat/guided.py``,
``chat/service.py``, ``chat/usage.py``): it has a model ready, counts a prompt's tokens the way
the model does, writes a reply token by token (optionally under a grammar, ending at stop
strings), rates continuations by likelihood, and stops the request in progress when asked.
The chat layer holds an ``Engine`` and never knows how it is run. Today the one engine is
``ModelRuntime`` (``engine/local/runtime.py``): llama.cpp in a crash-isolated worker process.
The tests also have an in-process fake (``tests/support/fake_engine.py``).

A new engine (e.g. one that talks to a remote server) implements every method of ``Engine``
with the contract written on it, returns ``LoadedModel`` from ``ensure_ready`` and
``Generation`` from ``generate``, and says what went wrong with the ``LocalWorkError``
subclasses of ``localwork.errors`` (``EngineNotReady``, ``ContextOverflow``,
``GenerationFailed``, ``EngineCrashed``...), whose codes the chat layer turns into advice.
Choosing, loading and closing a model is the app's business, not the chat layer's: the app
calls those on the engine it built (``ModelRuntime.load``, ``restart``, ``close``...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

from localwork.engine.local.context_plan import ContextPlan
from localwork.engine.local.template import ChatTemplate
from localwork.models.gguf import GgufInfo
from localwork.models.registry import InstalledModel

EngineState = Literal["idle", "loading", "ready", "error"]

# Why a reply ended: the model's end-of-generation token, the ``max_tokens`` limit, a stop
# string, or ``cancel()``.
StopReason = Literal["eos", "length", "stop", "cancelled"]


class Generation(TypedDict):
    """What ``Engine.generate`` reports about the reply it wrote (its text went to
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
    """``Engine.status()``: what the status line shows, and what a failed reply's advice
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
class Engine(Protocol):
    """What the chat layer asks of an engine. Calls come from the chat's reply thread one at
    a time, except ``cancel`` and ``status``, which may come from any thread meanwhile."""

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
