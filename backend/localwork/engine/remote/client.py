"""A streamed chat completion from an OpenAI-compatible server, and stopping it.

``RemoteChatClient(server).stream_chat(request, on_text=..., on_reasoning=...)`` posts to
``{base}/chat/completions`` with ``stream: true``, gives the reply's text and reasoning out
as they come, and returns the whole ``ChatReply``: text, reasoning, tool calls, why it
stopped, the server's token counts and the timing. ``cancel()``, from any thread, shuts the
request's socket at once (``cancel.py``); the reply then ends with what it had, stop reason
"cancelled". Anything else that ends it early is a coded error (``failures.py``).

The stream is read with httpx's server-sent-events parser, which skips keep-alive comments
(": ping") and stops at ``data: [DONE]``. A server that ignored ``stream: true`` and sent the
whole completion as JSON is read too.
"""

from __future__ import annotations

import json
import threading

import httpx2

from localwork.engine.remote.cancel import CancelSwitch
from localwork.engine.remote.connection import RemoteServer, trace_extensions
from localwork.engine.remote.failures import (
    bad_response,
    dropped,
    error_for_event,
    error_for_status,
    error_for_transport,
    read_error_body,
)
from localwork.engine.remote.request import ChatRequest
from localwork.engine.remote.stream import (
    BadChunk,
    ChatReply,
    ErrorEvent,
    StreamAssembler,
    TextCallback,
)
from localwork.errors import LocalWorkError

CHAT_PATH = "/chat/completions"
_DONE = "[DONE]"


class RemoteChatClient:
    """Chat completions from one server, one at a time; ``cancel`` may come from any
    thread meanwhile."""

    def __init__(self, server: RemoteServer) -> None:
        self.server = server
        self._lock = threading.Lock()
        self._current: CancelSwitch | None = None

    def stream_chat(
        self,
        request: ChatRequest,
        *,
        on_text: TextCallback | None = None,
        on_reasoning: TextCallback | None = None,
        on_refiled: TextCallback | None = None,
        starts_in_reasoning: bool = False,
    ) -> ChatReply:
        """Stream one reply. ``on_text`` and ``on_reasoning`` get each new piece of the
        answer and of the reasoning; ``on_refiled`` gets the text already given to
        ``on_text`` when a lone ``</think>`` shows it was reasoning (see
        ``engine/reasoning.py``; ``starts_in_reasoning`` says the prompt opened the block).

        Raises:
            RemoteUnreachable, RemoteTimeout: no connection, or no answer in time.
            RemoteAuthFailed, RemoteModelNotFound, RemoteRateLimited, RemoteServerError,
                RemoteRedirected, RemoteError: the server answered with an error status.
            RemoteBadResponse: the answer is not an OpenAI chat stream.
            RemoteStreamDropped: the reply stopped before it was finished; what it wrote
                is kept on the error.
        """
        switch = CancelSwitch()
        with self._lock:
            self._current = switch
        assembler = StreamAssembler(
            on_text=on_text,
            on_reasoning=on_reasoning,
            on_refiled=on_refiled,
            starts_in_reasoning=starts_in_reasoning,
        )
        try:
            return self._stream(request, switch, assembler)
        finally:
            with self._lock:
                if self._current is switch:
                    self._current = None

    def cancel(self) -> None:
        """Stop the reply in progress, if any, keeping what it wrote."""
        with self._lock:
            switch = self._current
        if switch is not None:
            switch.cancel()

    def _stream(
        self, request: ChatRequest, switch: CancelSwitch, assembler: StreamAssembler
    ) -> ChatReply:
        replying = False
        try:
            with (
                self.server.open_client() as client,
                client.stream(
                    "POST",
                    self.server.url(CHAT_PATH),
                    json=request.payload(),
                    headers={"Accept": "text/event-stream"},
                    extensions=trace_extensions(switch),
                ) as response,
            ):
                if not response.is_success:
                    body = read_error_body(response)
                    raise error_for_status(self.server, response, body, model=request.model)
                replying = True
                self._read(response, assembler, switch)
        except (httpx2.TransportError, LocalWorkError) as error:
            if switch.cancelled:  # whatever the shut socket made of the stream
                return assembler.reply(cancelled=True)
            assembler.end_of_text()
            if isinstance(error, LocalWorkError):
                raise
            raise error_for_transport(
                self.server,
                error,
                replying=replying,
                partial_text=assembler.text,
                partial_reasoning=assembler.reasoning,
            ) from None
        if switch.cancelled:  # the reply is what the callbacks were given, no more
            return assembler.reply(cancelled=True)
        assembler.end_of_text()
        if not assembler.finished:
            raise dropped(
                self.server,
                f"{self.server.base_url} ended the stream before the reply was finished.",
                assembler.text,
                assembler.reasoning,
            )
        if not assembler.saw_a_chunk:
            raise bad_response(self.server, "its stream had no chat completion chunks")
        return assembler.reply()

    def _read(
        self, response: httpx2.Response, assembler: StreamAssembler, switch: CancelSwitch
    ) -> None:
        media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type == "application/json":  # it ignored "stream": the whole completion
            self._add(assembler, self._json(response.read().decode("utf-8", "replace")))
            assembler.done = True
            return
        if media_type != "text/event-stream":
            raise bad_response(
                self.server, f"it sent {media_type or 'no content type'}, not an event stream"
            )
        for event in httpx2.EventSource(response):
            if switch.cancelled:  # what had arrived before the cancel is not given out
                return
            data = event.data.strip()
            if data == _DONE:  # some servers keep the connection open after it
                assembler.done = True
                return
            if data:
                self._add(assembler, self._json(data))

    def _json(self, text: str) -> object:
        try:
            return json.loads(text)
        except ValueError:
            raise bad_response(
                self.server, f"it sent something that is not JSON: {text[:80]!r}"
            ) from None

    def _add(self, assembler: StreamAssembler, chunk: object) -> None:
        try:
            assembler.add(chunk)
        except BadChunk as problem:
            raise bad_response(self.server, str(problem)) from None
        except ErrorEvent as event:
            raise error_for_event(
                self.server,
                event.error,
                partial_text=assembler.text,
                partial_reasoning=assembler.reasoning,
            ) from None
