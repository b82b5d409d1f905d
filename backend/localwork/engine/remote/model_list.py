"""The models a server offers, from ``GET {base}/models``.

Not every server lists its models (some proxies and hosted gateways answer 404 or 405, or
something that is not the OpenAI list). That is not a failure: ``ModelList.listed`` is False
and the UI asks the user to type the model id. Errors that the user must fix (unreachable,
refused key, the server failing) are raised as coded errors, as for a chat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx2

from localwork.engine.remote.connection import RemoteServer, Timeouts
from localwork.engine.remote.failures import error_for_status, error_for_transport, read_error_body

MODELS_PATH = "/models"
TYPE_THE_ID = "This server does not list its models: type the model id."
_NO_LIST = (404, 405, 501)  # the server has no list to give
_LIST_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class ModelList:
    """``ids`` in the server's order. ``listed`` False: the server gave no list, and
    ``note`` says to type the id. ``context_lengths``: what the server says of a model's
    context, when it says (vLLM's ``max_model_len``, llama-server's ``meta.n_ctx_train``…)."""

    ids: list[str]
    listed: bool
    note: str | None = None
    context_lengths: dict[str, int] = field(default_factory=dict)


def list_models(
    base_url: str, api_key: str | None = None, *, timeouts: Timeouts | None = None
) -> ModelList:
    """The models the server at ``base_url`` offers.

    Raises:
        InvalidRequest: the base URL or key is not accepted.
        RemoteUnreachable, RemoteTimeout, RemoteAuthFailed, RemoteRateLimited,
            RemoteServerError, RemoteRedirected, RemoteError: as for a chat.
    """
    server = RemoteServer(base_url, api_key, timeouts or Timeouts())
    try:
        with (
            server.open_client() as client,
            client.stream(
                "GET", server.url(MODELS_PATH), headers={"Accept": "application/json"}
            ) as response,
        ):
            if response.status_code in _NO_LIST:
                return ModelList([], listed=False, note=TYPE_THE_ID)
            if not response.is_success:
                raise error_for_status(server, response, read_error_body(response), model=None)
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > _LIST_LIMIT:
                    return ModelList([], listed=False, note=TYPE_THE_ID)
    except httpx2.TransportError as error:
        raise error_for_transport(server, error, replying=False) from None
    entries = _entries(bytes(body))
    if entries is None:
        return ModelList([], listed=False, note=TYPE_THE_ID)
    ids: list[str] = []
    lengths: dict[str, int] = {}
    for entry in entries:
        model_id = entry.get("id")
        if isinstance(model_id, str) and model_id.strip() and model_id not in ids:
            ids.append(model_id)
            length = _context_length(entry)
            if length is not None:
                lengths[model_id] = length
    return ModelList(ids, listed=True, context_lengths=lengths)


def _entries(body: bytes) -> list[dict[str, Any]] | None:
    """The entries of an OpenAI model list (``{"data": [{"id": ...}, ...]}``), None if it is
    not one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    entries = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(entries, list):
        return None
    return [entry for entry in entries if isinstance(entry, dict)]


# Where servers put a model's context length in its list entry, by server.
_CONTEXT_FIELDS = (
    ("max_model_len",),  # vLLM
    ("context_length",),  # OpenRouter, LiteLLM
    ("max_context_length",),  # LM Studio
    ("meta", "n_ctx"),  # llama-server: the context it runs with…
    ("meta", "n_ctx_train"),  # …or, in older versions, only the trained one
)


def _context_length(entry: dict[str, Any]) -> int | None:
    for path in _CONTEXT_FIELDS:
        value: Any = entry
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
