"""The local API's errors: each app error gets the status its clients expect, in each API's
own shape; a body nested too deep is refused before it is parsed."""

from __future__ import annotations

import pytest

from localwork.api.wire import MAX_DEPTH, ApiError, from_app_error, parse_body
from localwork.errors import (
    ContextOverflow,
    EngineBusy,
    InvalidRequest,
    ModelLoading,
    ModelNotFound,
    RemoteUnreachable,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ContextOverflow("The prompt is 9000 tokens; the context holds 8192."), 400),
        (InvalidRequest("bad"), 400),
        (ModelNotFound("no such model"), 404),
        (EngineBusy("16 requests already wait"), 429),
        (ModelLoading("loading"), 503),
        (RemoteUnreachable("nothing answered"), 502),
    ],
)
def test_each_app_error_gets_its_status(error, status):
    assert from_app_error(error).status == status


def test_errors_come_in_each_apis_shape():
    error = ApiError(429, "Too many.", code="engine_busy")
    assert error.body("openai") == {
        "error": {
            "message": "Too many.",
            "type": "rate_limit_error",
            "param": None,
            "code": "engine_busy",
        }
    }
    assert error.body("anthropic") == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Too many."},
    }


def test_nesting_is_bounded_but_brackets_in_strings_do_not_count():
    assert parse_body(b'{"a": "' + b"[" * 1000 + b'"}') == {"a": "[" * 1000}
    with pytest.raises(ApiError) as refused:
        parse_body(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert refused.value.status == 400
    with pytest.raises(ApiError):
        parse_body(b"[1, 2]")  # not an object
