"""A streamed chat completion against the scripted server: the reply, its stats, what the
request carries, and every streaming quirk seen in the wild."""

from __future__ import annotations

import pytest

from localwork.engine.remote.request import ChatRequest, Sampling, ToolSpec, UseTool
from tests.remote.conftest import API_KEY
from tests.support.openai_server import (
    DONE_LINE,
    Answer,
    Stream,
    chunk,
    text_stream,
    usage_chunk,
)

HELLO = ChatRequest("test-model", [{"role": "user", "content": "Say hello."}])


class Heard:
    """What the callbacks got."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.refiled: list[str] = []

    def callbacks(self) -> dict:
        return {
            "on_text": self.text.append,
            "on_reasoning": self.reasoning.append,
            "on_refiled": self.refiled.append,
        }


def call_delta(index: int | None = None, **fields) -> dict:
    """One entry of a delta's ``tool_calls``: ``id`` and ``type`` as given, ``name`` and
    ``arguments`` into ``function``."""
    function = {key: fields.pop(key) for key in ("name", "arguments") if key in fields}
    delta = {**fields, "function": function}
    if index is not None:
        delta["index"] = index
    return delta


def test_a_reply_streams_its_text_and_ends_with_usage_and_timing(server, client):
    server.script(
        Stream([chunk("Hel"), chunk("lo!"), chunk(finish_reason="stop"), usage_chunk(12, 3)])
    )
    heard = Heard()
    reply = client.stream_chat(HELLO, **heard.callbacks())
    assert heard.text == ["Hel", "lo!"]
    assert (reply.text, reply.reasoning, reply.tool_calls) == ("Hello!", "", [])
    assert (reply.stop_reason, reply.finish_reason) == ("stop", "stop")
    assert reply.usage == {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "cached_prompt_tokens": None,
        "reasoning_tokens": None,
    }
    stats = reply.stats
    assert stats["completion_tokens"] == 3 and stats["tokens_counted"] is True
    assert stats["time_to_first_token_ms"] is not None and stats["time_to_first_token_ms"] >= 0
    assert stats["generation_seconds"] >= 0


def test_the_request_asks_for_a_stream_with_usage_and_carries_the_key(server, client):
    server.script(text_stream("ok"))
    client.stream_chat(HELLO)
    [seen] = server.chat_requests()
    assert seen.headers["authorization"] == f"Bearer {API_KEY}"
    assert seen.headers["accept"] == "text/event-stream"
    assert seen.body == {
        "model": "test-model",
        "messages": [{"role": "user", "content": "Say hello."}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_the_request_carries_the_conversation_tools_choice_sampling_and_limit(server, client):
    messages = [
        {"role": "system", "content": "You help."},
        {"role": "user", "content": "Read a.txt"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path": "a.txt"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "hello"},
    ]
    schema = {"type": "object", "properties": {"path": {"type": "string"}}}
    request = ChatRequest(
        "test-model",
        messages,
        tools=[ToolSpec("read_file", "Read a text file.", schema)],
        tool_choice=UseTool("read_file"),
        sampling=Sampling(
            temperature=0.2, top_p=0.9, seed=7, stop=["\nUser:"], extra={"top_k": 40}
        ),
        max_tokens=64,
    )
    server.script(text_stream("ok"))
    client.stream_chat(request)
    body = server.chat_requests()[0].body
    assert body["messages"] == messages
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "read_file",
                "description": "Read a text file.",
                "parameters": schema,
            },
        }
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "read_file"}}
    assert (body["temperature"], body["top_p"], body["seed"]) == (0.2, 0.9, 7)
    assert (body["stop"], body["top_k"], body["max_tokens"]) == (["\nUser:"], 40, 64)
    assert "frequency_penalty" not in body  # unset fields leave the server's default


def test_a_plain_tool_choice_is_sent_as_its_word(server, client):
    server.script(text_stream("ok"))
    client.stream_chat(ChatRequest("test-model", HELLO.messages, tool_choice="required"))
    assert server.chat_requests()[0].body["tool_choice"] == "required"


def test_no_usage_at_all_counts_the_chunks_instead(server, client):
    server.script(text_stream("a", "b", "c"))
    reply = client.stream_chat(HELLO)
    assert reply.usage is None
    assert reply.stats["completion_tokens"] == 3 and reply.stats["tokens_counted"] is False


def test_usage_null_on_every_chunk_and_counts_on_the_last(server, client):
    server.script(
        Stream(
            [
                {**chunk("a"), "usage": None},
                {**chunk("b", finish_reason="stop"), "usage": None},
                chunk(usage={"prompt_tokens": 4, "completion_tokens": 2}),
            ]
        )
    )
    reply = client.stream_chat(HELLO)
    assert reply.text == "ab" and reply.usage is not None and reply.usage["completion_tokens"] == 2


def test_usage_details_cached_prompt_and_reasoning_tokens(server, client):
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 15},
    }
    server.script(Stream([chunk("a", finish_reason="stop"), {"choices": [], "usage": usage}]))
    reply = client.stream_chat(HELLO)
    assert reply.usage is not None
    assert (reply.usage["cached_prompt_tokens"], reply.usage["reasoning_tokens"]) == (64, 15)


def test_keep_alive_comments_and_empty_events_are_skipped(server, client):
    server.script(
        Stream(
            [
                ": ping",
                chunk("a"),
                ": ping - 2024-01-01",
                "event: ping\ndata:",
                chunk("b"),
                chunk(finish_reason="stop"),
            ]
        )
    )
    assert client.stream_chat(HELLO).text == "ab"


def test_finish_reason_length_is_kept(server, client):
    server.script(text_stream("cut", finish_reason="length"))
    reply = client.stream_chat(HELLO)
    assert (reply.stop_reason, reply.finish_reason) == ("length", "length")


def test_a_missing_finish_reason_before_done_is_unknown_not_a_failure(server, client):
    server.script(Stream([chunk("all "), chunk("there")]))  # then data: [DONE]
    reply = client.stream_chat(HELLO)
    assert (reply.text, reply.stop_reason, reply.finish_reason) == ("all there", "unknown", None)


def test_done_ends_the_reply_even_when_the_server_keeps_the_connection_open(server, client):
    # Were [DONE] not the end, the 1 s read timeout would turn this into a dropped stream.
    events = [chunk("done"), chunk(finish_reason="stop"), DONE_LINE]
    server.script(Stream(events, done=False, stall_after=len(events)))
    assert client.stream_chat(HELLO).text == "done"


def test_a_server_that_ignores_stream_and_sends_the_whole_completion(server, client):
    completion = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Reading it.",
                    "tool_calls": [
                        {
                            "id": "call_9",
                            "type": "function",
                            "function": {"name": "read_file", "arguments": '{"path": "a"}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14},
    }
    server.script(Answer(body=completion))
    heard = Heard()
    reply = client.stream_chat(HELLO, **heard.callbacks())
    assert heard.text == ["Reading it."] and reply.stop_reason == "tool_calls"
    assert [(c.id, c.name, c.parsed_arguments) for c in reply.tool_calls] == [
        ("call_9", "read_file", {"path": "a"})
    ]


# --- tool calls ---------------------------------------------------------------------------


def test_tool_call_deltas_with_an_empty_name_in_the_argument_chunks(server, client):
    server.script(
        Stream(
            [
                chunk(
                    tool_calls=[
                        call_delta(0, id="call_a", type="function", name="read_file", arguments="")
                    ]
                ),
                chunk(tool_calls=[call_delta(0, name="", arguments='{"path":')]),
                chunk(tool_calls=[call_delta(0, name="", arguments=' "a.txt"}')]),
                chunk(finish_reason="tool_calls"),
            ]
        )
    )
    reply = client.stream_chat(HELLO)
    [call] = reply.tool_calls
    assert (call.id, call.name, call.arguments) == ("call_a", "read_file", '{"path": "a.txt"}')
    assert call.parsed_arguments == {"path": "a.txt"}
    assert reply.stop_reason == "tool_calls" and reply.text == ""


def test_tool_call_deltas_without_index(server, client):
    server.script(
        Stream(
            [
                chunk(tool_calls=[call_delta(id="call_a", name="list_folder", arguments="")]),
                chunk(tool_calls=[call_delta(arguments='{"path": "."}')]),
                chunk(tool_calls=[call_delta(id="call_b", name="read_file", arguments="")]),
                chunk(tool_calls=[call_delta(arguments='{"path": "b"}')]),
                chunk(finish_reason="tool_calls"),
            ]
        )
    )
    calls = client.stream_chat(HELLO).tool_calls
    assert [(c.id, c.name, c.parsed_arguments) for c in calls] == [
        ("call_a", "list_folder", {"path": "."}),
        ("call_b", "read_file", {"path": "b"}),
    ]


def test_whole_arguments_in_one_chunk_and_finish_reason_stop_ollama(server, client):
    server.script(
        Stream(
            [
                chunk(
                    tool_calls=[
                        call_delta(
                            0,
                            id="call_x",
                            type="function",
                            name="read_file",
                            arguments='{"path": "a"}',
                        )
                    ]
                ),
                chunk(finish_reason="stop"),
            ]
        )
    )
    reply = client.stream_chat(HELLO)
    assert [c.parsed_arguments for c in reply.tool_calls] == [{"path": "a"}]
    assert reply.stop_reason == "tool_calls" and reply.finish_reason == "stop"


def test_several_calls_in_one_message_interleaved_by_index(server, client):
    server.script(
        Stream(
            [
                chunk("Let me look. "),
                chunk(
                    tool_calls=[
                        call_delta(0, id="call_1", name="read_file", arguments=""),
                        call_delta(1, id="call_2", name="read_file", arguments=""),
                    ]
                ),
                chunk(tool_calls=[call_delta(1, arguments='{"path": "two"}')]),
                chunk(tool_calls=[call_delta(0, arguments='{"path": "one"}')]),
                chunk(finish_reason="tool_calls"),
            ]
        )
    )
    reply = client.stream_chat(HELLO)
    assert reply.text == "Let me look. "
    assert [(c.id, c.parsed_arguments) for c in reply.tool_calls] == [
        ("call_1", {"path": "one"}),
        ("call_2", {"path": "two"}),
    ]


def test_broken_arguments_are_kept_as_text_for_the_model_to_fix(server, client):
    server.script(
        Stream(
            [
                chunk(tool_calls=[call_delta(0, id="c", name="read_file", arguments='{"path": ')]),
                chunk(finish_reason="tool_calls"),
            ]
        )
    )
    [call] = client.stream_chat(HELLO).tool_calls
    assert call.arguments == '{"path":' and call.parsed_arguments is None


# --- reasoning ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_in_its_own_field(server, client, field):
    server.script(
        Stream(
            [
                chunk(**{field: "Think"}),
                chunk(**{field: "ing."}),
                chunk("Answer."),
                chunk(finish_reason="stop"),
            ]
        )
    )
    heard = Heard()
    reply = client.stream_chat(HELLO, **heard.callbacks())
    assert heard.reasoning == ["Think", "ing."] and heard.text == ["Answer."]
    assert (reply.reasoning, reply.text) == ("Thinking.", "Answer.")


def test_a_server_that_sends_both_reasoning_fields_is_not_read_twice(server, client):
    server.script(
        Stream([chunk(reasoning_content="once", reasoning="once"), chunk(finish_reason="stop")])
    )
    assert client.stream_chat(HELLO).reasoning == "once"


def test_think_tags_in_the_text_even_cut_across_chunks(server, client):
    server.script(text_stream("<thi", "nk>\nFirst, 2+2.", "</th", "ink>\n\n", "It is 4."))
    heard = Heard()
    reply = client.stream_chat(HELLO, **heard.callbacks())
    assert (reply.reasoning, reply.text) == ("First, 2+2.", "It is 4.")
    assert "".join(heard.reasoning) == "First, 2+2." and "".join(heard.text) == "It is 4."


def test_a_reply_that_starts_inside_the_reasoning_is_refiled_at_the_lone_close_tag(server, client):
    server.script(text_stream("The user wants ", "a greeting.", "</think>", "Hello!"))
    heard = Heard()
    reply = client.stream_chat(HELLO, **heard.callbacks())
    assert (reply.reasoning, reply.text) == ("The user wants a greeting.", "Hello!")
    assert heard.refiled == ["The user wants a greeting."]  # move it from the reply
    assert heard.text == ["The user wants ", "a greeting.", "Hello!"]


def test_a_reply_known_to_start_inside_the_reasoning_is_never_shown_as_text(server, client):
    server.script(text_stream("The user wants ", "a greeting.</think>Hello!"))
    heard = Heard()
    reply = client.stream_chat(HELLO, starts_in_reasoning=True, **heard.callbacks())
    assert (reply.reasoning, reply.text) == ("The user wants a greeting.", "Hello!")
    assert heard.text == ["Hello!"] and heard.refiled == []
