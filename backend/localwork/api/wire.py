"""Errors in each API's own shape with the status its clients expect, and the ids replies get.

OpenAI: ``{"error": {"message", "type", "param", "code"}}``; Anthropic: ``{"type": "error",
"error": {"type", "message"}}``. An app error (``errors.py``) gets the status of its kind.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, Literal

from localwork.errors import (
    ContextOverflow,
    EngineBusy,
    EngineNotReady,
    InvalidRequest,
    LocalWorkError,
    ModelNotFound,
    NotFound,
    RemoteError,
)

Shape = Literal["openai", "anthropic"]
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64  # JSON nesting a request body may have
_STRINGS = re.compile(rb'"(?:[^"\\\\]|\\\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    502: "server_error",
    503: "server_error",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
}


class ApiError(Exception):
    """A request refused with ``status``; ``param`` names the field at fault, if one is."""

    def __init__(
        self, status: int, message: str, param: str | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self, shape: Shape) -> dict[str, Any]:
        if shape == "anthropic":
            kind = _ANTHROPIC_TYPES.get(self.status, "api_error")
            return {"type": "error", "error": {"type": kind, "message": self.message}}
        kind = _OPENAI_TYPES.get(self.status, "server_error")
        return {
            "error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}
        }


def from_app_error(error: LocalWorkError) -> ApiError:
    """The status and words of an app error, for a client."""
    if isinstance(error, ContextOverflow):
        return ApiError(400, error.message, param="messages", code="context_length_exceeded")
    if isinstance(error, ModelNotFound | NotFound):
        return ApiError(404, error.message, param="model", code="model_not_found")
    if isinstance(error, EngineBusy):
        return ApiError(429, error.message, code=error.code)
    if isinstance(error, EngineNotReady):
        return ApiError(503, error.message, code=error.code)
    if isinstance(error, InvalidRequest):
        return ApiError(400, error.message, code=error.code)
    if isinstance(error, RemoteError):
        return ApiError(502, error.message, code=error.code)
    return ApiError(500, error.message, code=error.code)


def parse_body(raw: bytes) -> dict[str, Any]:
    """A request's JSON object, its nesting bounded.

    Raises:
        ApiError: it is not a JSON object, or nests deeper than ``MAX_DEPTH``.
    """
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", raw)):  # bounded before parsing:
        depth += 1 if bracket in b"[{" else -1  # the parser itself recurses
        if depth > MAX_DEPTH:
            raise ApiError(400, f"The request body nests deeper than {MAX_DEPTH} levels.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"The request body is not valid JSON: {error}.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"
