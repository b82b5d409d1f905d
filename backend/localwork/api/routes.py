"""The local API's endpoints, as one Starlette app.

Each request runs its engine turn on a thread of its own (``ApiService``: the engine's queue),
so the event loop stays free for every other request and for noticing a client that leaves.
What the engine writes comes back to the loop through a ``Relay``; a streamed reply's headers
go out with its first piece, so a request refused by the engine (over the context, say) still
gets its error status. A client that disconnects cancels its job at once: a wait for the
engine ends, a generation stops on the engine.

Callers that would rather fail than wait for a model to load send ``Prefer: wait=0``
(RFC 7240's ``wait`` preference): a request that would have to wait for a load gets 503.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from localwork.api import anthropic, openai, responses
from localwork.api.guard import Guard, Rules, shape_of
from localwork.api.openai import Usage
from localwork.api.service import ApiService, Job, Target
from localwork.api.wire import MAX_BODY_BYTES, ApiError, Shape, from_app_error, new_id, parse_body
from localwork.engine.base import ChatEngine, TextEngine, TurnReply, TurnRequest
from localwork.engine.gate import WaitCancelled
from localwork.engine.remote.engine import estimate_tokens
from localwork.engine.toolcalls import CALL_MARKERS
from localwork.errors import LocalWorkError

_DISCONNECT_POLL = 0.2  # seconds between looks at whether a waiting client is still there
_PING_SECONDS = 15


class ClientGone(Exception):
    """The client disconnected before its reply was ready."""


class Relay:
    """What a request's engine thread hands to its event loop, in order."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(self, kind: str, value: Any = None) -> None:
        self._loop.call_soon_threadsafe(self.queue.put_nowait, (kind, value))

    def start(self, work: Callable[[], Any]) -> None:
        """Run ``work`` on its own thread: its result arrives as ("done", result), a failure
        as ("error", exception), a wait its client gave up as ("gone", None)."""

        def run() -> None:
            try:
                self.put("done", work())
            except WaitCancelled:
                self.put("gone")
            except BaseException as error:  # handed to the loop, which answers with it
                self.put("error", error)

        threading.Thread(target=run, name="api-request", daemon=True).start()

    async def next(self, request: Request | None) -> tuple[str, Any]:
        """The next piece; with ``request``, a client that left meanwhile raises
        ``ClientGone`` (without it the response's own watch notices)."""
        while True:
            try:
                return await asyncio.wait_for(
                    self.queue.get(), _DISCONNECT_POLL if request is not None else None
                )
            except TimeoutError:
                assert request is not None
                if await request.is_disconnected():
                    raise ClientGone from None


def failure(kind: str, value: Any) -> ApiError | None:
    """The error a relay's piece says, if it is one."""
    if kind == "gone":
        return ApiError(499, "The client left.")
    if kind != "error":
        return None
    if isinstance(value, ApiError):
        return value
    if isinstance(value, LocalWorkError):
        return from_app_error(value)
    return ApiError(500, "The request failed inside LocalWork Hero; see its log.")


@dataclass
class Exchange:
    """One request's row of the API log, written once when it ends."""

    service: ApiService
    client: str
    endpoint: str
    wait: bool
    came: float = field(default_factory=time.time)
    began: float = field(default_factory=time.monotonic)
    model: str | None = None
    usage: Usage | None = None
    _done: bool = False

    def finish(self, status: int) -> None:
        if self._done:
            return
        self._done = True
        self.service.record(
            time=self.came,
            client=self.client,
            endpoint=self.endpoint,
            model=self.model,
            tokens_in=self.usage.prompt_tokens if self.usage else None,
            tokens_out=self.usage.completion_tokens if self.usage else None,
            duration_ms=round((time.monotonic() - self.began) * 1000, 1),
            status=status,
        )


def error_response(error: ApiError, shape: Shape) -> Response:
    status = error.status if error.status != 499 else 400
    return JSONResponse(error.body(shape), status_code=status)


def sse(data: Any, event: str | None = None) -> ServerSentEvent:
    return ServerSentEvent(data=data if isinstance(data, str) else json.dumps(data), event=event)


class NamedEvents(Protocol):
    """An API whose stream is named events (Responses, Anthropic Messages): what each part
    of a reply becomes."""

    def opening(self) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def text(self, text: str) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def reasoning(self, text: str) -> Iterator[tuple[str, dict[str, Any]]]: ...

    def closing(self, reply: TurnReply, usage: Usage) -> Iterator[tuple[str, dict[str, Any]]]: ...


async def named_events(
    first: tuple[str, Any],
    relay: Relay,
    made: NamedEvents,
    exchange: Exchange,
    failed: Callable[[ApiError], ServerSentEvent],
) -> AsyncIterator[ServerSentEvent]:
    """The reply's relayed parts as ``made``'s named events, until it is done or fails."""
    for name, data in made.opening():
        yield sse(data, name)
    kind, value = first
    while True:
        error = failure(kind, value)
        if error is not None:
            yield failed(error)
            return
        if kind == "done":
            reply, usage = value
            exchange.usage = usage
            for name, data in made.closing(reply, usage):
                yield sse(data, name)
            return
        parts = made.text(value) if kind == "text" else made.reasoning(value)
        for name, data in parts:
            yield sse(data, name)
        kind, value = await relay.next(None)


def wants_to_wait(request: Request) -> bool:
    """False when the caller sent ``Prefer: wait=0``."""
    for preference in request.headers.get("prefer", "").split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() == "wait" and value.strip() == "0":
            return False
    return True


Handler = Callable[[Request, Exchange], Awaitable[Response]]


class Endpoints:
    def __init__(self, service: ApiService) -> None:
        self._service = service

    # --- what every endpoint shares -----------------------------------------------------------
    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            client = request.client
            exchange = Exchange(
                self._service,
                f"{client.host}:{client.port}" if client else "",
                f"{request.method} {request.url.path}",
                wants_to_wait(request),
            )
            shape = shape_of(request.url.path)
            try:
                return await handler(request, exchange)
            except ClientGone:
                exchange.finish(499)
                return Response(status_code=400)  # never read: the client is gone
            except ApiError as error:
                exchange.finish(error.status)
                return error_response(error, shape)
            except LocalWorkError as error:
                api_error = from_app_error(error)
                exchange.finish(api_error.status)
                return error_response(api_error, shape)

        return handle

    async def body(self, request: Request) -> dict[str, Any]:
        """The request's JSON object, read up to ``MAX_BODY_BYTES``.

        Raises:
            ApiError: 413 over the limit, 400 not a JSON object or nested too deep.
        """
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise ApiError(
                    413, f"The request body is over the limit of {MAX_BODY_BYTES // 2**20} MiB."
                )
            chunks.append(chunk)
        return parse_body(b"".join(chunks))

    def target(self, body: dict[str, Any], exchange: Exchange) -> Target:
        model = body.get("model")
        if model is not None and not isinstance(model, str):
            raise ApiError(400, "'model' must be a string.", param="model")
        exchange.model = model  # the log names what was asked for, even a model it has not
        target = self._service.resolve(model)
        exchange.model = target.id
        return target

    def counter(self, engine: ChatEngine | TextEngine) -> Callable[[str], int]:
        if isinstance(engine, TextEngine):
            return engine.count_tokens
        runtime = self._service.local_text_engine(engine)
        return runtime.count_tokens if runtime is not None else estimate_tokens

    def usage(self, engine: ChatEngine, turn: TurnRequest, reply: TurnReply) -> Usage:
        """The turn's token counts; a call written under the grammar is counted apart."""
        stats = reply.stats
        if stats is not None:
            prompt, written = stats["prompt_tokens"], stats["completion_tokens"]
        else:
            system = [{"role": "system", "content": turn.system}] if turn.system else []
            prompt, written = engine.count_conversation(system + turn.messages), 0
        guided = stats is None or stats["stop_text"] in CALL_MARKERS
        if guided and reply.calls:
            count = self.counter(engine)
            written += sum(count(call.raw) for call in reply.calls)
        return Usage(prompt, written)

    async def chat_reply(
        self,
        request: Request,
        exchange: Exchange,
        target: Target,
        turn: openai.Turn,
        relay: Relay,
    ) -> Job:
        """Start the turn on the engine's queue; its text and reasoning go to ``relay``
        as ("text", …) and ("reasoning", …), then ("done", (reply, usage))."""
        job = Job(target)
        defaults = self._service.generation(target)

        def on_reasoning(text: str, *, refiled: bool = False) -> None:
            relay.put("reasoning", text)

        def work(engine: ChatEngine) -> tuple[TurnReply, Usage]:
            asked = turn.request(
                defaults, lambda text: relay.put("text", text), on_reasoning, job.cancelled
            )
            reply = engine.take_turn(asked)
            return reply, self.usage(engine, asked, reply)

        relay.start(lambda: self._service.chat_turn(job, work, wait=exchange.wait))
        return job

    async def whole(self, request: Request, relay: Relay, job: Job) -> Any:
        """The result of a job that is not streamed; the client leaving cancels it."""
        try:
            while True:
                kind, value = await relay.next(request)
                error = failure(kind, value)
                if error is not None:
                    raise error
                if kind == "done":
                    return value
        except ClientGone:
            job.cancel()
            raise

    async def first(self, request: Request, relay: Relay, job: Job) -> tuple[str, Any]:
        """A streamed job's first piece: its headers wait for it, so an error keeps its status."""
        try:
            kind, value = await relay.next(request)
        except ClientGone:
            job.cancel()
            raise
        error = failure(kind, value)
        if error is not None:
            raise error
        return kind, value

    def stream(
        self,
        exchange: Exchange,
        job: Job,
        events: AsyncIterator[ServerSentEvent],
    ) -> EventSourceResponse:
        """The streamed response; the client leaving mid-stream cancels the job at once."""

        async def watched() -> AsyncIterator[ServerSentEvent]:
            status = 499
            try:
                async for event in events:
                    yield event
                status = 200
            finally:
                job.cancel()  # at once, whether the client left or the stream ended
                exchange.finish(status)

        return EventSourceResponse(watched(), ping=_PING_SECONDS, sep="\n")

    # --- GET /v1/models -----------------------------------------------------------------------
    async def list_models(self, request: Request, exchange: Exchange) -> Response:
        listed = [_model_object(model) for model in self._service.models()]
        exchange.finish(200)
        return JSONResponse({"object": "list", "data": listed})

    async def get_model(self, request: Request, exchange: Exchange) -> Response:
        wanted = request.path_params["model"]
        for model in self._service.models():
            if model["id"] == wanted:
                exchange.model = wanted
                exchange.finish(200)
                return JSONResponse(_model_object(model))
        raise ApiError(404, f"There is no model {wanted!r}.", param="model", code="model_not_found")

    # --- POST /v1/chat/completions ----------------------------------------------------------
    async def chat_completions(self, request: Request, exchange: Exchange) -> Response:
        body = await self.body(request)
        turn = openai.chat_turn(body)
        target = self.target(body, exchange)
        stream = body.get("stream") is True
        relay = Relay()
        job = await self.chat_reply(request, exchange, target, turn, relay)
        completion_id = new_id("chatcmpl-")
        if not stream:
            reply, usage = await self.whole(request, relay, job)
            exchange.usage = usage
            ids = [openai.call_id() for _ in reply.calls]
            exchange.finish(200)
            return JSONResponse(openai.completion(completion_id, target.id, reply, usage, ids))
        first = await self.first(request, relay, job)
        chunks = openai.Chunks(completion_id, target.id)
        include_usage = openai.include_usage(body)

        async def events() -> AsyncIterator[ServerSentEvent]:
            yield sse(chunks.opening())
            kind, value = first
            while True:
                error = failure(kind, value)
                if error is not None:
                    yield sse(error.body("openai"))
                    return
                if kind == "text":
                    yield sse(chunks.text(value))
                elif kind == "reasoning":
                    yield sse(chunks.reasoning(value))
                elif kind == "done":
                    reply, usage = value
                    exchange.usage = usage
                    ids = [openai.call_id() for _ in reply.calls]
                    for chunk in chunks.calls(reply.calls, ids):
                        yield sse(chunk)
                    yield sse(chunks.end(reply))
                    if include_usage:
                        yield sse(chunks.usage(usage))
                    yield sse("[DONE]")
                    return
                kind, value = await relay.next(None)

        return self.stream(exchange, job, events())

    # --- POST /v1/completions ---------------------------------------------------------------
    async def completions(self, request: Request, exchange: Exchange) -> Response:
        body = await self.body(request)
        openai.one_choice(body)
        prompt = body.get("prompt")
        if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
            prompt = prompt[0]
        if not isinstance(prompt, str) or not prompt:
            raise ApiError(400, "'prompt' must be a non-empty string.", param="prompt")
        target = self.target(body, exchange)
        overrides = openai.sampling_of(body)
        max_tokens = openai.token_limit(body, "max_tokens") or 16
        stop = openai.stops_of(body.get("stop"))
        defaults = self._service.generation(target)
        relay = Relay()
        job = Job(target)

        def work(engine: TextEngine) -> tuple[dict[str, Any], Usage]:
            sampling = {k: defaults[k] for k in _SAMPLING_KEYS} | overrides
            result = engine.generate(
                prompt,
                max_tokens,
                sampling,
                lambda text: relay.put("text", text),
                stop=stop or None,
            )
            return dict(result), Usage(result["prompt_tokens"], result["completion_tokens"])

        relay.start(lambda: self._service.text_turn(job, work, wait=exchange.wait))
        completion_id = new_id("cmpl-")
        created = int(time.time())

        def choice(text: str, finish: str | None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "text_completion",
                "created": created,
                "model": target.id,
                "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}],
            }

        def finish_of(result: dict[str, Any]) -> str:
            return "length" if result["stop_reason"] == "length" else "stop"

        if body.get("stream") is not True:
            texts: list[str] = []
            while True:
                kind, value = await relay.next(request)
                error = failure(kind, value)
                if error is not None:
                    raise error
                if kind == "text":
                    texts.append(value)
                elif kind == "done":
                    result, usage = value
                    exchange.usage = usage
                    exchange.finish(200)
                    whole = choice("".join(texts), finish_of(result))
                    return JSONResponse({**whole, "usage": usage.openai()})
        first = await self.first(request, relay, job)
        include_usage = openai.include_usage(body)

        async def events() -> AsyncIterator[ServerSentEvent]:
            kind, value = first
            while True:
                error = failure(kind, value)
                if error is not None:
                    yield sse(error.body("openai"))
                    return
                if kind == "text":
                    yield sse(choice(value, None))
                elif kind == "done":
                    result, usage = value
                    exchange.usage = usage
                    yield sse(choice("", finish_of(result)))
                    if include_usage:
                        yield sse({**choice("", None), "choices": [], "usage": usage.openai()})
                    yield sse("[DONE]")
                    return
                kind, value = await relay.next(None)

        return self.stream(exchange, job, events())

    # --- POST /v1/responses -------------------------------------------------------------------
    async def responses(self, request: Request, exchange: Exchange) -> Response:
        body = await self.body(request)
        turn = responses.turn_of(body)
        target = self.target(body, exchange)
        relay = Relay()
        job = await self.chat_reply(request, exchange, target, turn, relay)
        made = responses.Made(target.id, body)
        if body.get("stream") is not True:
            reply, usage = await self.whole(request, relay, job)
            exchange.usage = usage
            exchange.finish(200)
            return JSONResponse(made.response(reply, usage))
        first = await self.first(request, relay, job)

        def failed(error: ApiError) -> ServerSentEvent:
            return sse(made.failed(error), "response.failed")

        events = named_events(first, relay, made, exchange, failed)
        return self.stream(exchange, job, events)

    # --- POST /v1/messages (Anthropic) ----------------------------------------------------------
    async def messages(self, request: Request, exchange: Exchange) -> Response:
        body = await self.body(request)
        turn = anthropic.turn_of(body)
        target = self.target(body, exchange)
        relay = Relay()
        job = await self.chat_reply(request, exchange, target, turn, relay)
        made = anthropic.Made(target.id)
        if body.get("stream") is not True:
            reply, usage = await self.whole(request, relay, job)
            exchange.usage = usage
            exchange.finish(200)
            return JSONResponse(made.message(reply, usage))
        first = await self.first(request, relay, job)

        def failed(error: ApiError) -> ServerSentEvent:
            return sse(error.body("anthropic"), "error")

        events = named_events(first, relay, made, exchange, failed)
        return self.stream(exchange, job, events)

    async def count_tokens(self, request: Request, exchange: Exchange) -> Response:
        body = await self.body(request)
        turn = anthropic.turn_of({**body, "max_tokens": body.get("max_tokens", 1)})
        target = self.target(body, exchange)
        relay = Relay()
        job = Job(target)
        system = [{"role": "system", "content": turn.system}] if turn.system else []

        def work(engine: ChatEngine) -> int:
            return engine.count_conversation(system + turn.messages)

        relay.start(lambda: self._service.chat_turn(job, work, wait=exchange.wait))
        tokens = await self.whole(request, relay, job)
        exchange.usage = Usage(tokens, 0)
        exchange.finish(200)
        return JSONResponse({"input_tokens": tokens})


_SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed")


def _model_object(model: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": model["id"],
        "object": "model",
        "created": 0,
        "owned_by": model["owned_by"],
        "context_length": model["context_length"],
    }


def build_app(service: ApiService, rules: Callable[[], Rules]) -> Guard:
    """The whole API: the endpoints behind the guard."""
    endpoints = Endpoints(service)
    wrap = endpoints.endpoint
    routes = [
        Route("/v1/models", wrap(endpoints.list_models), methods=["GET"]),
        Route("/v1/models/{model:path}", wrap(endpoints.get_model), methods=["GET"]),
        Route("/v1/chat/completions", wrap(endpoints.chat_completions), methods=["POST"]),
        Route("/v1/completions", wrap(endpoints.completions), methods=["POST"]),
        Route("/v1/responses", wrap(endpoints.responses), methods=["POST"]),
        Route("/v1/messages", wrap(endpoints.messages), methods=["POST"]),
        Route("/v1/messages/count_tokens", wrap(endpoints.count_tokens), methods=["POST"]),
    ]

    def refused(scope: Scope, status: int) -> None:
        client = scope.get("client") or ("?", 0)
        service.record(
            time=time.time(),
            client=f"{client[0]}:{client[1]}",
            endpoint=f"{scope['method']} {scope['path']}",
            model=None,
            tokens_in=None,
            tokens_out=None,
            duration_ms=0.0,
            status=status,
        )

    return Guard(Starlette(routes=routes), rules, on_refused=refused)
