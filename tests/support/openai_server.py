"""A loopback OpenAI-compatible server that answers what a test scripted, faults included.

Starlette on uvicorn, on 127.0.0.1 and a free port, in a background thread. Each
``POST /v1/chat/completions`` takes the next scripted answer: a ``Stream`` of server-sent
events (chunks, raw lines such as ": ping", optionally dropping the connection or going
silent part way), a plain ``Answer`` (an error status, a redirect, a whole JSON completion),
or ``Silence`` (the request is read and never answered). ``GET /v1/models`` answers
``models``. The server keeps every request it got (``requests``) and counts the clients that
went away before their answer was over (``disconnects``).
"""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

DONE_LINE = "data: [DONE]"


@dataclass
class Stream:
    """Server-sent events: a dict is sent as ``data: {json}``, a str as it is (a comment, a
    raw ``data:`` line), each followed by a blank line."""

    events: list[dict[str, Any] | str]
    done: bool = True  # end with ``data: [DONE]``
    drop_after: int | None = None  # after this many events, cut the connection (no clean end)
    stall_after: int | None = None  # after this many events, send nothing, connection open
    gap: float = 0.0  # seconds between events
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "text/event-stream"


@dataclass
class Answer:
    """A plain HTTP answer; a dict or list body is sent as JSON."""

    status: int = 200
    body: bytes | str | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None


@dataclass
class Silence:
    """Read the request, then never answer (until the client gives up)."""


Script = Stream | Answer | Silence


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the JSON body, None when there was none


class DroppedOnPurpose(Exception):
    """Raised in a response body: uvicorn then cuts the connection mid-answer."""


def chunk(
    content: str | None = None,
    *,
    reasoning_content: str | None = None,
    reasoning: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with one choice whose delta has what is given."""
    delta: dict[str, Any] = {}
    for key, value in (
        ("content", content),
        ("reasoning_content", reasoning_content),
        ("reasoning", reasoning),
        ("tool_calls", tool_calls),
    ):
        if value is not None:
            delta[key] = value
    made: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    if usage is not None:
        made["usage"] = usage
    return made


def usage_chunk(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """The last chunk of ``stream_options.include_usage``: no choices, only usage."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def text_stream(*pieces: str, finish_reason: str | None = "stop", **options: Any) -> Stream:
    """A reply of ``pieces``, one chunk each, then its finish reason."""
    events: list[dict[str, Any] | str] = [chunk(piece) for piece in pieces]
    events.append(chunk(finish_reason=finish_reason))
    return Stream(events, **options)


def model_list(*ids: str) -> Answer:
    return Answer(body={"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})


class OpenAIServer:
    def __init__(self) -> None:
        self.chat_answers: collections.deque[Script] = collections.deque()
        self.models: Script = model_list("test-model")
        self.requests: list[Seen] = []
        self.disconnects = 0
        self._disconnected = threading.Condition()
        self._app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/{anything:path}", self._elsewhere, methods=["GET", "POST"]),
            ]
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL a client is given."""
        return f"{self.root}/v1"

    def script(self, *answers: Script) -> None:
        """The answers to the next chat requests, in order."""
        self.chat_answers.extend(answers)

    def chat_requests(self) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == "/v1/chat/completions"]

    def wait_for_disconnects(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Whether ``count`` clients went away mid-answer within ``timeout`` seconds."""
        with self._disconnected:
            return self._disconnected.wait_for(lambda: self.disconnects >= count, timeout)

    def start(self) -> OpenAIServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(
            self._watching_disconnects,
            interface="asgi3",
            http="h11",
            ws="none",
            lifespan="off",
            log_config=None,
            log_level="critical",  # a dropped connection is on purpose, not news
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [listener]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def close(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    async def _watching_disconnects(self, scope: Scope, receive: Receive, send: Send) -> None:
        # uvicorn tells a handler that its client left through ``receive`` (Starlette's
        # streaming response listens there, and so does ``Silence``); it also says
        # "disconnect" there once the answer is complete, which is no client leaving.
        answered = counted = False

        async def watched_send(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
            await send(message)

        async def watched_receive() -> Message:
            nonlocal counted
            message = await receive()
            if message["type"] == "http.disconnect" and not (answered or counted):
                counted = True
                with self._disconnected:
                    self.disconnects += 1
                    self._disconnected.notify_all()
            return message

        await self._app(scope, watched_receive, watched_send)

    async def _record(self, request: Request) -> None:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append(
            Seen(request.method, request.url.path, dict(request.headers.items()), body)
        )

    async def _chat(self, request: Request) -> Response:
        await self._record(request)
        if not self.chat_answers:
            return Response("The test scripted no answer for this request.", status_code=500)
        return await self._answer(self.chat_answers.popleft(), request)

    async def _models(self, request: Request) -> Response:
        await self._record(request)
        return await self._answer(self.models, request)

    async def _elsewhere(self, request: Request) -> Response:
        await self._record(request)
        return Response("Not Found", status_code=404, media_type="text/plain")

    async def _answer(self, script: Script, request: Request) -> Response:
        if isinstance(script, Silence):
            while (await request.receive())["type"] != "http.disconnect":
                pass
            return Response()  # never sent: the client is gone
        if isinstance(script, Answer):
            body = script.body
            media_type = script.media_type
            if isinstance(body, dict | list):
                body, media_type = json.dumps(body), media_type or "application/json"
            return Response(
                body, script.status, headers=script.headers, media_type=media_type or "text/plain"
            )
        return StreamingResponse(
            _events(script), script.status, headers=script.headers, media_type=script.media_type
        )


async def _events(stream: Stream) -> AsyncIterator[bytes]:
    for sent in range(len(stream.events) + 1):
        if stream.drop_after == sent:
            raise DroppedOnPurpose
        if stream.stall_after == sent:
            await asyncio.Event().wait()  # until the client leaves and Starlette cancels this
        if sent == len(stream.events):
            break
        if sent and stream.gap:
            await asyncio.sleep(stream.gap)
        event = stream.events[sent]
        line = event if isinstance(event, str) else f"data: {json.dumps(event)}"
        yield f"{line}\n\n".encode()
    if stream.done:
        yield f"{DONE_LINE}\n\n".encode()
