"""GET /models: the ids a server offers, "type the id" when it has no list, coded errors
for what the user must fix."""

from __future__ import annotations

import pytest

from localwork.engine.remote.model_list import TYPE_THE_ID, ModelList, list_models
from localwork.errors import InvalidRequest, RemoteAuthFailed, RemoteServerError, RemoteUnreachable
from tests.remote.conftest import API_KEY, SHORT
from tests.support.openai_server import Answer, model_list


def test_the_ids_in_the_servers_order_with_the_key_sent(server):
    server.models = model_list("qwen3-8b", "llama-3.1-8b", "qwen3-8b")
    assert list_models(server.url, API_KEY, timeouts=SHORT) == ModelList(
        ["qwen3-8b", "llama-3.1-8b"], listed=True
    )
    [seen] = server.requests
    assert (seen.method, seen.path) == ("GET", "/v1/models")
    assert seen.headers["authorization"] == f"Bearer {API_KEY}"


def test_an_empty_list_is_still_a_list(server):
    server.models = model_list()
    assert list_models(server.url, timeouts=SHORT) == ModelList([], listed=True)


@pytest.mark.parametrize(
    "answer",
    [
        Answer(404, "Not Found"),
        Answer(405, {"detail": "Method Not Allowed"}),
        Answer(501, "Not Implemented"),
        Answer(200, "<html>a web page</html>", media_type="text/html"),
        Answer(200, {"models": ["a", "b"]}),  # some other shape
        Answer(200, {"data": "a, b"}),
    ],
    ids=["404", "405", "501", "html", "other-shape", "data-not-a-list"],
)
def test_a_server_without_the_openai_list_says_type_the_model_id(server, answer):
    server.models = answer
    assert list_models(server.url, timeouts=SHORT) == ModelList([], listed=False, note=TYPE_THE_ID)


def test_a_refused_key(server):
    server.models = Answer(401, {"error": {"message": "Invalid API key"}})
    with pytest.raises(RemoteAuthFailed, match=r"refused the API key \(401: Invalid API key\)"):
        list_models(server.url, "sk-wrong", timeouts=SHORT)


def test_a_failing_server(server):
    server.models = Answer(503, "loading model")
    with pytest.raises(RemoteServerError, match=r"\(503: loading model\)"):
        list_models(server.url, timeouts=SHORT)


def test_nothing_listening(closed_port):
    with pytest.raises(RemoteUnreachable, match=f"127.0.0.1:{closed_port}/v1"):
        list_models(f"http://127.0.0.1:{closed_port}", timeouts=SHORT)


def test_a_bad_address_is_refused_before_anything_is_sent():
    with pytest.raises(InvalidRequest):
        list_models("ftp://example.com")
