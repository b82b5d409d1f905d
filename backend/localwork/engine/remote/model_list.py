"""The models a server offers, from ``GET {base}/models``.

Not every server lists its models (some proxies and hosted gateways answer 404 or 405, or
something that is not the OpenAI list). That is not a failure: ``ModelList.listed`` is False
and the UI asks the user to type the model id. Errors that the user must fix (unreachable,
refused key, the server failing) are raised as coded errors, as for a chat.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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
    ``note`` says to type the id."""

    ids: list[str]
    listed: bool
    note: str | None = None


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
    ids = _model_ids(bytes(body))
    if ids is None:
        return ModelList([], listed=False, note=TYPE_THE_ID)
    return ModelList(ids, listed=True)


def _model_ids(body: bytes) -> list[str] | None:
    """The ids in an OpenAI model list (``{"data": [{"id": ...}, ...]}``), None if it is not
    one."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    entries = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(entries, list):
        return None
    ids: list[str] = []
    for entry in entries:
        model_id = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(model_id, str) and model_id.strip() and model_id not in ids:
            ids.append(model_id)
    return ids
