"""Every way a remote server fails a chat, as a coded error whose words say what to do."""

from __future__ import annotations

import email.utils
import time

import pytest

from localwork import errors
from localwork.engine.remote.client import RemoteChatClient
from localwork.engine.remote.connection import RemoteServer, Timeouts
from localwork.engine.remote.failures import retry_after_seconds, server_words
from localwork.engine.remote.request import ChatRequest
from tests.remote.conftest import API_KEY, SHORT
from tests.support.openai_server import (
    Answer,
    OpenAIServer,
    Silence,
    Stream,
    chunk,
    text_stream,
)

HELLO = ChatRequest("test-model", [{"role": "user", "content": "Say hello."}])


def chat_with(url: str, timeouts: Timeouts = SHORT, key: str | None = API_KEY) -> None:
    RemoteChatClient(RemoteServer(url, key, timeouts)).stream_chat(HELLO)


def openai_error(message: str, kind: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


# --- no answer ----------------------------------------------------------------------------


def test_nothing_listening_is_unreachable_and_names_the_url(closed_port):
    url = f"http://127.0.0.1:{closed_port}/v1"
    with pytest.raises(errors.RemoteUnreachable) as caught:
        chat_with(url)
    assert f"Cannot reach {url}: nothing is listening on that port" in caught.value.message
    assert caught.value.url == url


def test_a_connection_that_is_never_accepted_is_a_connect_timeout(full_backlog_port):
    started = time.monotonic()
    with pytest.raises(errors.RemoteTimeout) as caught:
        chat_with(f"http://127.0.0.1:{full_backlog_port}", Timeouts(connect=0.5, read=30))
    assert caught.value.phase == "connect" and caught.value.seconds == 0.5
    assert "did not accept a connection within 0.5 s" in caught.value.message
    assert time.monotonic() - started < 15  # the connect timeout, not the read one


def test_a_server_that_accepts_and_never_answers_is_a_read_timeout(server):
    server.script(Silence())
    started = time.monotonic()
    with pytest.raises(errors.RemoteTimeout) as caught:
        chat_with(server.url, Timeouts(connect=2, read=0.5))
    assert caught.value.phase == "read" and caught.value.seconds == 0.5
    assert "accepted the connection but did not answer within 0.5 s" in caught.value.message
    assert time.monotonic() - started < 15
    assert server.wait_for_disconnects(1)  # and the client let go of the connection


def test_a_server_that_hangs_up_without_answering_is_not_an_openai_server(hang_up_port):
    with pytest.raises(
        errors.RemoteBadResponse, match="closed the connection without an HTTP answer"
    ):
        chat_with(f"http://127.0.0.1:{hang_up_port}/v1")


# --- error statuses -----------------------------------------------------------------------


def test_a_refused_key(server):
    server.script(Answer(401, openai_error("Incorrect API key provided.")))
    with pytest.raises(errors.RemoteAuthFailed) as caught:
        chat_with(server.url)
    assert caught.value.status == 401
    assert "refused the API key (401: Incorrect API key provided)" in caught.value.message


def test_a_missing_key(server):
    server.script(Answer(401, {"error": "Unauthorized"}))
    with pytest.raises(errors.RemoteAuthFailed, match=r"needs an API key \(401: Unauthorized\)"):
        chat_with(server.url, key=None)
    assert "authorization" not in server.chat_requests()[0].headers


def test_a_key_that_may_not_use_the_model(server):
    server.script(Answer(403, openai_error("You have no access to this model.")))
    with pytest.raises(errors.RemoteAuthFailed, match=r"does not allow this request \(403"):
        chat_with(server.url)


def test_an_unknown_model(server):
    server.script(Answer(404, openai_error("The model `test-model` does not exist.", "not_found")))
    with pytest.raises(errors.RemoteModelNotFound) as caught:
        chat_with(server.url)
    assert "has no model 'test-model' (404: The model `test-model` does not exist)" in (
        caught.value.message
    )


def test_a_wrong_base_url_is_a_404_with_a_plain_text_body(server):
    with pytest.raises(errors.RemoteModelNotFound, match=r"\(404: Not Found\).*ending in /v1"):
        chat_with(f"{server.root}/api")  # the server's catch-all answers 404 "Not Found"


def test_rate_limited_keeps_the_seconds_to_wait(server):
    server.script(Answer(429, openai_error("Rate limit reached."), headers={"Retry-After": "17"}))
    with pytest.raises(errors.RemoteRateLimited) as caught:
        chat_with(server.url)
    assert caught.value.retry_after == 17.0
    assert "limiting requests (429: Rate limit reached). Wait 17 seconds" in caught.value.message


def test_rate_limited_with_a_date_or_nothing(server):
    later = email.utils.formatdate(time.time() + 120, usegmt=True)
    server.script(Answer(429, "slow down", headers={"Retry-After": later}), Answer(429))
    with pytest.raises(errors.RemoteRateLimited) as caught:
        chat_with(server.url)
    assert caught.value.retry_after is not None and 100 < caught.value.retry_after <= 120
    with pytest.raises(errors.RemoteRateLimited, match="Wait a moment") as caught:
        chat_with(server.url)
    assert caught.value.retry_after is None


def test_a_server_error_with_its_own_words_in_plain_text(server):
    server.script(Answer(500, "Internal Server Error: model crashed\n"))
    with pytest.raises(errors.RemoteServerError) as caught:
        chat_with(server.url)
    assert caught.value.status == 500
    assert "had an error (500: Internal Server Error: model crashed)" in caught.value.message


def test_a_proxy_error_page_in_html(server):
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>"
    server.script(Answer(502, page, media_type="text/html"))
    with pytest.raises(errors.RemoteServerError, match=r"\(502: 502 Bad Gateway\)"):
        chat_with(server.url)


def test_another_refusal_keeps_the_servers_words(server):
    server.script(Answer(400, openai_error("This model's maximum context length is 4096 tokens.")))
    with pytest.raises(errors.RemoteError) as caught:
        chat_with(server.url)
    assert type(caught.value) is errors.RemoteError and caught.value.status == 400
    assert "refused the request (400: This model's maximum context length" in caught.value.message


def test_a_redirect_is_reported_not_followed_so_the_key_never_leaves(server):
    elsewhere = OpenAIServer().start()
    try:
        target = f"{elsewhere.url}/chat/completions"
        server.script(Answer(307, headers={"Location": target}))
        with pytest.raises(errors.RemoteRedirected) as caught:
            chat_with(server.url)
        assert caught.value.location == target and caught.value.status == 307
        assert f"redirect (307) to {target}" in caught.value.message
        assert elsewhere.requests == []  # neither the request nor the key went there
    finally:
        elsewhere.close()


def test_a_relative_redirect_names_the_whole_address(server):
    server.script(Answer(301, headers={"Location": "/v2/chat/completions"}))
    with pytest.raises(errors.RemoteRedirected) as caught:
        chat_with(server.url)
    assert caught.value.location == f"{server.root}/v2/chat/completions"


# --- a reply that breaks off --------------------------------------------------------------


def test_a_connection_dropped_mid_stream_keeps_what_was_written(server):
    server.script(
        Stream(
            [chunk(reasoning_content="Hm."), chunk("Hel"), chunk("lo"), chunk(" there")],
            drop_after=3,
        )
    )
    written: list[str] = []
    with pytest.raises(errors.RemoteStreamDropped) as caught:
        RemoteChatClient(RemoteServer(server.url, API_KEY, SHORT)).stream_chat(
            HELLO, on_text=written.append
        )
    error = caught.value
    assert (error.partial_text, error.partial_reasoning) == ("Hello", "Hm.")
    assert written == ["Hel", "lo"]
    assert "dropped in the middle of the reply. What it wrote so far is kept" in error.message


def test_a_server_that_goes_silent_mid_stream_is_dropped_after_the_read_timeout(server):
    server.script(text_stream("Hel", "lo", stall_after=1))
    with pytest.raises(errors.RemoteStreamDropped) as caught:
        chat_with(server.url, Timeouts(connect=2, read=0.5))
    assert caught.value.partial_text == "Hel"
    assert "stopped sending for 0.5 s in the middle of the reply" in caught.value.message
    assert server.wait_for_disconnects(1)


def test_a_stream_that_ends_without_a_finish_reason_or_done_is_dropped(server):
    server.script(Stream([chunk("Hel")], done=False))
    with pytest.raises(
        errors.RemoteStreamDropped, match="ended the stream before the reply was finished"
    ):
        chat_with(server.url)


def test_an_error_event_before_any_text_is_a_server_error(server):
    server.script(Stream([{"error": {"message": "model is overloaded", "code": 503}}]))
    with pytest.raises(errors.RemoteServerError) as caught:
        chat_with(server.url)
    assert caught.value.status == 503
    assert "sent an error instead of a reply: model is overloaded" in caught.value.message


def test_an_error_event_after_some_text_keeps_the_text(server):
    server.script(Stream([chunk("Partial"), "event: error\ndata: " + '{"error": "out of memory"}']))
    with pytest.raises(errors.RemoteStreamDropped) as caught:
        chat_with(server.url)
    assert caught.value.partial_text == "Partial"
    assert "stopped the reply with an error: out of memory" in caught.value.message


# --- not the OpenAI shape -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "says"),
    [
        (["data: this is not json"], "not JSON: 'this is not json'"),
        ([{"choices": "none"}], "'choices' is not a list"),
        ([{"choices": [{"index": 0, "delta": "hi"}]}], "'delta' is not an object"),
        ([{"choices": [{"index": 0, "delta": {"content": 5}}]}], "'content' is not text"),
        (["data: [1, 2]"], "not a JSON object"),
        ([{"object": "something.else"}], "no chat completion chunks"),
    ],
)
def test_a_stream_that_is_not_the_openai_shape(server, events, says):
    server.script(Stream(events))
    with pytest.raises(
        errors.RemoteBadResponse, match=f"did not answer like an OpenAI-compatible server.*{says}"
    ):
        chat_with(server.url)


def test_a_web_page_instead_of_an_event_stream(server):
    server.script(Answer(200, "<html>Welcome</html>", media_type="text/html"))
    with pytest.raises(errors.RemoteBadResponse, match="it sent text/html, not an event stream"):
        chat_with(server.url)


# --- the words, on their own --------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"error": {"message": "Bad key."}}', "Bad key"),
        (b'{"error": "plain"}', "plain"),
        (b'{"detail": [{"loc": ["body"], "msg": "field required"}]}', "field required"),
        (b'{"message": "Ollama says no"}', "Ollama says no"),
        (b"", ""),
        (b"  Service Unavailable  \n", "Service Unavailable"),
        (b"<html><body><p>Bad &amp; wrong</p></body></html>", "Bad & wrong"),
        (b"x" * 1000, "x" * 299 + "…"),
        (b"\xff\xfe not utf-8", "\ufffd\ufffd not utf-8"),
    ],
)
def test_the_servers_words_come_out_of_any_error_body(body, words):
    assert server_words(body) == words


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("5", 5.0), (" 2.5 ", 2.5), ("-3", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_retry_after_in_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_a_date():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
