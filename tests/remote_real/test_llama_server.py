"""The remote client against a real third-party server: llama-cpp-python's
``llama_cpp.server`` (the app's pin) serving the bundled SmolLM2-135M on 127.0.0.1.

The scripted server (``tests/remote``) covers every quirk one at a time; these tests show
the client reads what a real server really sends. The model is a 135M one: the tests assert
structure (a call was made, text came in pieces), never wording. What this server does that
the remote engine must know is asserted here too: no usage in streams, any model name is
answered, and a prompt past the context window ends a streamed reply without a word.
"""

from __future__ import annotations

import threading
import time

import pytest

from localwork.engine.remote.client import RemoteChatClient
from localwork.engine.remote.connection import RemoteServer
from localwork.engine.remote.failures import error_for_status, read_error_body
from localwork.engine.remote.model_list import list_models
from localwork.engine.remote.request import ChatRequest, Sampling, ToolSpec, UseTool
from localwork.errors import RemoteError, RemoteStreamDropped
from tests.support.llama_server import LlamaServer

GREEDY = Sampling(temperature=0.0, seed=42)
HELLO = [{"role": "user", "content": "Say hello in one short sentence."}]
TIME_TOOL = ToolSpec(
    "get_time",
    "The current time in a time zone.",
    {
        "type": "object",
        # An enum keeps the grammar-bound arguments short, whatever the small model picks.
        "properties": {"timezone": {"type": "string", "enum": ["UTC", "Europe/Paris"]}},
        "required": ["timezone"],
    },
)
# Some 6,000 tokens: three times the server's 2,048-token window.
TOO_LONG = [{"role": "user", "content": "hello world " * 3000}]


def request(messages, *, model: str = "smollm2", **fields) -> ChatRequest:
    """A greedy request; any model name does (the server answers with the one it has)."""
    return ChatRequest(model, messages, sampling=fields.pop("sampling", GREEDY), **fields)


def test_the_model_list_names_the_served_model(llama_server: LlamaServer):
    models = list_models(llama_server.base_url)
    assert models.listed is True
    # No --model_alias: the id is the GGUF's path, as the server was started with it.
    assert models.ids == [llama_server.model_id]


def test_a_reply_streams_in_pieces_and_ends_with_a_stop_reason(
    llama_server: LlamaServer, client: RemoteChatClient
):
    pieces: list[str] = []
    reply = client.stream_chat(
        request(HELLO, model=llama_server.model_id, max_tokens=24), on_text=pieces.append
    )
    assert len(pieces) >= 2
    assert "".join(pieces) == reply.text and reply.text.strip()
    assert reply.stop_reason in ("stop", "length")
    assert reply.finish_reason == reply.stop_reason
    assert reply.tool_calls == [] and reply.reasoning == ""
    # It ignores stream_options.include_usage: a stream has no usage, so the client counts
    # the chunks that carried text (one token each) instead.
    assert reply.usage is None
    assert reply.stats["tokens_counted"] is False
    assert reply.stats["completion_tokens"] >= len(pieces)
    assert reply.stats["time_to_first_token_ms"] is not None


def test_cancel_from_another_thread_ends_the_reply_at_once(client: RemoteChatClient):
    started = threading.Event()
    cancelled_at: list[float] = []

    def on_text(piece: str) -> None:
        started.set()

    def cancel_soon() -> None:
        started.wait(timeout=30)
        time.sleep(0.3)  # well into the reply
        cancelled_at.append(time.monotonic())
        client.cancel()

    canceller = threading.Thread(target=cancel_soon)
    canceller.start()
    # min_tokens (llama.cpp's own field) holds back the end of text: it cannot finish first.
    long_reply = Sampling(temperature=0.0, seed=42, extra={"min_tokens": 1000})
    messages = [{"role": "user", "content": "Count from 1 to 1000, one number a line."}]
    reply = client.stream_chat(
        request(messages, sampling=long_reply, max_tokens=1200), on_text=on_text
    )
    ended_at = time.monotonic()
    canceller.join(timeout=5)
    assert cancelled_at, "the reply ended before the cancel"
    assert ended_at - cancelled_at[0] < 2.0
    assert reply.stop_reason == "cancelled"
    assert reply.text.strip()
    # The server saw the socket close and is free: the next request is answered.
    after = client.stream_chat(request(HELLO, max_tokens=4))
    assert after.stop_reason in ("stop", "length") and after.text


def test_a_named_tool_choice_streams_one_call_of_that_tool(client: RemoteChatClient):
    messages = [{"role": "user", "content": "What time is it in Paris?"}]
    reply = client.stream_chat(
        request(messages, tools=[TIME_TOOL], tool_choice=UseTool("get_time"), max_tokens=64)
    )
    # The default chat format (the GGUF's template) binds the reply to the tool's schema.
    [call] = reply.tool_calls
    assert call.name == "get_time" and call.id
    assert isinstance(call.parsed_arguments, dict)
    assert call.parsed_arguments.get("timezone") in ("UTC", "Europe/Paris")
    assert (reply.stop_reason, reply.finish_reason) == ("tool_calls", "tool_calls")
    assert reply.text == ""


def test_a_model_it_does_not_have_is_answered_by_the_one_it_has(
    llama_server: LlamaServer, client: RemoteChatClient
):
    assert "no-such-model" not in list_models(llama_server.base_url).ids
    reply = client.stream_chat(request(HELLO, model="no-such-model", max_tokens=8))
    assert reply.text.strip() and reply.stop_reason in ("stop", "length")


def test_a_prompt_past_the_window_ends_the_stream_without_the_servers_words(
    client: RemoteChatClient,
):
    # It answers 200 and an event stream, then finds the prompt too long and closes the
    # stream with no event: the client can only say the reply stopped before it began.
    with pytest.raises(RemoteStreamDropped) as caught:
        client.stream_chat(request(TOO_LONG, max_tokens=8))
    assert caught.value.code == "remote_stream_dropped"
    assert caught.value.partial_text == ""
    assert "ended the stream before the reply was finished" in str(caught.value)


def test_unstreamed_the_window_error_is_a_400_with_its_words(llama_server: LlamaServer):
    # Without ``stream`` it checks first, and the client's error keeps what it said.
    server = RemoteServer(llama_server.base_url)
    body = {**request(TOO_LONG, max_tokens=8).payload(), "stream": False}
    with (
        server.open_client() as http,
        http.stream("POST", server.url("/chat/completions"), json=body) as response,
    ):
        error = error_for_status(server, response, read_error_body(response), model=None)
    assert isinstance(error, RemoteError) and error.status == 400
    assert "maximum context length is 2048 tokens" in str(error)


def test_auto_tool_choice_with_the_default_format_is_plain_text(client: RemoteChatClient):
    # The GGUF's template leaves the tools out of the prompt and nothing binds the reply:
    # "auto" (or "required") gets text, never a call.
    messages = [{"role": "user", "content": "What time is it in Paris? Use get_time."}]
    reply = client.stream_chat(
        request(messages, tools=[TIME_TOOL], tool_choice="auto", max_tokens=16)
    )
    assert reply.tool_calls == [] and reply.text.strip()
    assert reply.stop_reason in ("stop", "length")


def test_auto_tool_choice_cannot_stream_in_the_function_calling_format(
    function_calling_server: LlamaServer,
):
    # chatml-function-calling raises "Automatic streaming tool choice is not supported"
    # after the 200: the stream closes with no event. (Unstreamed, "auto" works there.)
    client = RemoteChatClient(RemoteServer(function_calling_server.base_url))
    messages = [{"role": "user", "content": "What time is it in Paris? Use get_time."}]
    with pytest.raises(RemoteStreamDropped) as caught:
        client.stream_chat(request(messages, tools=[TIME_TOOL], tool_choice="auto", max_tokens=16))
    assert caught.value.partial_text == ""
    # A named choice does stream in that format too.
    reply = client.stream_chat(
        request(messages, tools=[TIME_TOOL], tool_choice=UseTool("get_time"), max_tokens=64)
    )
    [call] = reply.tool_calls
    assert call.name == "get_time" and isinstance(call.parsed_arguments, dict)


# The server's own GBNF (llama-cpp-python's ``grammar`` request field) makes the 135M model
# write a reasoning block the way a reasoning model does, so that the real stream's tokens,
# however the tags fall across them, go through the client's splitter.
THINK_FIRST = 'root ::= "<think>" [a-z ]{4,40} "</think>" [A-Za-z ]{2,40} "."'


def test_think_tags_in_a_real_stream_become_reasoning(client: RemoteChatClient):
    shown: list[str] = []
    thought: list[str] = []
    request = ChatRequest(
        model="any",
        messages=HELLO,
        sampling=Sampling(temperature=0.0, seed=42, extra={"grammar": THINK_FIRST}),
        max_tokens=64,
    )
    reply = client.stream_chat(request, on_text=shown.append, on_reasoning=thought.append)
    assert reply.reasoning.strip() and "".join(thought) == reply.reasoning
    assert reply.text.strip() and "".join(shown) == reply.text
    assert "<think>" not in reply.text and "</think>" not in reply.text + reply.reasoning
