"""The SDK transport for a server's config, watched for its end and for lines that are not MCP.

stdio: the SDK's ``stdio_client`` starts the launcher (a process group of its own, which dies
with the app), which starts the resolved command; stderr goes into the server's
``StderrTail``. HTTP: the SDK's ``streamable_http_client``, with the config's headers.

Either way the session's read stream is wrapped: the session sees every message as before,
and the connection learns when the stream ends (the process died, the link dropped) and what
the server wrote that was not MCP.
"""

from __future__ import annotations

import asyncio
import collections
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
import httpx2
from mcp.client import Transport
from mcp.client._transport import ReadStream, TransportStreams  # the types Transport yields
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from localwork.tools.mcp import launcher
from localwork.tools.mcp.commands import ResolvedCommand
from localwork.tools.mcp.config import HttpServer, StdioServer
from localwork.tools.mcp.stderr import StderrTail

_GARBAGE_KEPT = 3
_GARBAGE_SHOWN = 200  # characters of each
# A server may hold a streamed answer (SSE) open for long: calls have their own timeouts.
_HTTP_READ_TIMEOUT = 300.0


@dataclass
class StreamWatch:
    """What the wrapped read stream saw: its end, and the last lines that were not MCP; and
    over HTTP, the last error status (the SDK turns a 401 into "an error response")."""

    ended: asyncio.Event = field(default_factory=asyncio.Event)
    garbage: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=_GARBAGE_KEPT)
    )
    http_status: int | None = None


def stdio_transport(config: StdioServer, command: ResolvedCommand, stderr: StderrTail) -> Transport:
    env = dict(config.env)
    if command.search_path is not None:  # found on the login shell's PATH: run with it
        env.setdefault("PATH", command.search_path)
    if sys.platform == "win32":  # the SDK puts it in a Job Object, which dies with the app
        argv = [command.executable, *config.args]
    else:
        argv = launcher.command_line(os.getpid(), command.executable, config.args)
    cwd = os.path.expanduser(config.cwd) if config.cwd else None
    parameters = StdioServerParameters(command=argv[0], args=argv[1:], env=env, cwd=cwd)
    return stdio_client(parameters, errlog=stderr.writer)


@asynccontextmanager
async def http_transport(config: HttpServer, watch: StreamWatch) -> AsyncIterator[TransportStreams]:
    async def note_refusals(response: httpx2.Response) -> None:
        if response.status_code >= 400:
            watch.http_status = response.status_code

    timeout = httpx2.Timeout(config.timeout, read=max(config.timeout, _HTTP_READ_TIMEOUT))
    hooks = {"response": [note_refusals]}
    async with (
        httpx2.AsyncClient(headers=config.headers, timeout=timeout, event_hooks=hooks) as http,
        streamable_http_client(config.url, http_client=http) as streams,
    ):
        yield streams


@asynccontextmanager
async def watched(transport: Transport, watch: StreamWatch) -> AsyncIterator[TransportStreams]:
    async with transport as (read_stream, write_stream):
        yield _WatchedReadStream(read_stream, watch), write_stream


class _WatchedReadStream:
    """The session's read stream, passed through, telling ``watch`` what it sees."""

    def __init__(self, inner: ReadStream[SessionMessage | Exception], watch: StreamWatch) -> None:
        self._inner = inner
        self._watch = watch

    @property
    def last_context(self) -> Any:  # the SDK's HTTP streams carry the sender's context
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        try:
            item = await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._watch.ended.set()
            raise
        if isinstance(item, Exception):  # a line the SDK could not read as JSON-RPC
            self._watch.garbage.append(_shown(item))
        return item

    def __aiter__(self) -> _WatchedReadStream:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        self._watch.ended.set()
        await self._inner.aclose()

    async def __aenter__(self) -> _WatchedReadStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _shown(problem: Exception) -> str:
    if isinstance(problem, ValidationError) and problem.errors():
        line = problem.errors()[0].get("input")
        return str(line)[:_GARBAGE_SHOWN]
    return repr(problem)[:_GARBAGE_SHOWN]
