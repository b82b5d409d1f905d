"""What a failed reply tells the user: what happened, what to do, and whether Retry can help.

The result is saved with the reply (its meta's ``error``), so a reloaded conversation shows
the same reason and advice as the live page did. Advice is only what is possible for the
model that is loaded: raising the context length is not offered when the model's training
length is already the limit, and Retry is not offered when trying again cannot change anything.
"""

from __future__ import annotations

from typing import Any

from localwork.engine.base import EngineStatus
from localwork.errors import (
    ContextOverflow,
    EngineCrashed,
    LocalWorkError,
    RemoteError,
    RemoteRateLimited,
    ToolListTooLarge,
)
from localwork.models.catalog import CATALOG

# How many catalog models a "does not fit" advice names.
_LONGER_MODELS_NAMED = 2


def describe_failure(error: LocalWorkError, status: EngineStatus) -> dict[str, Any]:
    """``{code, message, advice, retry}`` (plus ``tokens`` for a context overflow).

    ``status`` is the runtime's status when the reply failed: after a crash it already says
    whether the engine is restarting (loading) or the crash guard stopped it (error).
    """
    failure: dict[str, Any] = {
        "code": error.code,
        "message": error.message,
        "advice": None,
        "retry": True,
    }
    if isinstance(error, ToolListTooLarge):
        failure["retry"] = False
        failure["advice"] = (
            "Turn off MCP servers or tools you do not need here (Settings, MCP servers, "
            "where each shows what its tools cost), or raise the context length in Settings."
        )
        failure["tokens"] = error.tokens
    elif isinstance(error, ContextOverflow):
        failure["retry"] = False  # the same message, model and settings fail the same way
        failure["advice"] = _overflow_advice(error, status.get("model"))
        if error.tokens is not None:
            failure["tokens"] = error.tokens
    elif isinstance(error, EngineCrashed):
        failure.update(_crash_words(error, status))
    elif isinstance(error, RemoteError):
        failure.update(_server_advice(error))
    return failure


_ON_THE_SERVERS_TAB = "under Models, Servers"
# What a server's failure leaves the user to do; False: Retry would fail the same way.
_SERVER_ADVICE: dict[str, tuple[str, bool]] = {
    "remote_unreachable": (
        f"Check that the server is running and its address {_ON_THE_SERVERS_TAB}, then Retry; "
        "or continue on the local model.",
        True,
    ),
    "remote_timeout": (
        "The server may be busy or still loading its model: Retry in a moment, or continue "
        "on the local model.",
        True,
    ),
    "remote_auth_failed": (f"Update the server's API key {_ON_THE_SERVERS_TAB}.", False),
    "remote_model_not_found": (
        f"Choose one of the server's own models {_ON_THE_SERVERS_TAB}.",
        False,
    ),
    "remote_redirected": (
        f"Type the address it sends you to {_ON_THE_SERVERS_TAB}.",
        False,
    ),
    "remote_bad_response": (
        f"Check that the address {_ON_THE_SERVERS_TAB} is the server's API (it usually ends "
        "in /v1).",
        True,
    ),
    "remote_stream_dropped": ("Retry for a whole reply, or continue on the local model.", True),
}


def _server_advice(error: RemoteError) -> dict[str, Any]:
    if isinstance(error, RemoteRateLimited):
        wait = f"Wait {error.retry_after:g} s, then Retry" if error.retry_after else "Wait"
        return {"advice": f"{wait}; or continue on the local model."}
    advice, retry = _SERVER_ADVICE.get(
        error.code,
        (
            "Retry; if it keeps failing, the server's log says why. Or continue on the local "
            "model.",
            True,
        ),
    )
    return {"advice": advice, "retry": retry}


def _crash_words(error: EngineCrashed, status: EngineStatus) -> dict[str, str]:
    if status.get("state") == "error":  # the crash guard: it is not coming back by itself
        stopped = (status.get("error") or {}).get("message") or f"{error.message}."
        return {
            "message": f"{stopped} Your conversation is safe.",
            "advice": "Press Restart the model in the status line, then Retry; or choose "
            "another model in Models.",
        }
    return {
        "message": f"{error.message}. Your conversation is safe; the model is restarting.",
        "advice": "Press Retry to send your message again.",
    }


def _overflow_advice(error: ContextOverflow, model: dict[str, Any] | None) -> str:
    needed = (error.tokens or 0) + (error.room or 0)  # the context that would take it whole
    if error.whole_conversation:
        actions = [
            "start a new chat",
            "let LocalWork Hero leave out the oldest messages (Settings, Replies)",
        ]
    else:
        actions = ["shorten the message or send it in parts"]
    training = (model or {}).get("training_context") or 0
    n_ctx = error.n_ctx or (model or {}).get("n_ctx") or 0
    fact = ""
    if n_ctx < training and needed <= training:
        actions.append(
            f"raise the context length in Settings (this model takes up to {training:,} tokens)"
        )
    else:
        if training and n_ctx >= training:
            fact = f"This model takes at most {training:,} tokens at once. "
        longer = _longer_models(max(needed, training + 1))
        if longer:
            actions.append(f"choose a model with a longer context in Models ({longer})")
    said = ", ".join(actions[:-1]) + (", or " if len(actions) > 1 else "") + actions[-1]
    return f"{fact}{said[0].upper()}{said[1:]}."


def _longer_models(tokens: int) -> str:
    """Catalog models that take ``tokens``: the recommended one first, one per length."""
    named: dict[int, str] = {}
    for entry in sorted(CATALOG, key=lambda entry: not entry.recommended):
        if entry.context_length >= tokens and entry.context_length not in named:
            named[entry.context_length] = f"{entry.title}, {entry.context_length:,} tokens"
    return "; ".join(list(named.values())[:_LONGER_MODELS_NAMED])
