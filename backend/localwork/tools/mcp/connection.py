"""One session with one MCP server, from its start to its end (async, on the manager's loop).

The session lives in a task of its own (``_hold``), because the SDK's contexts must be left by
the task that entered them; calls run in their callers' tasks and share the session. A
connection is used once: after it ends, the supervisor opens a new one.

Every way a server can fail becomes one coded error: its command is missing, it does not come
up, it dies, it stops answering, it answers with something that is not MCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import httpx2
from mcp import Client
from mcp import types as sdk
from mcp.client import Transport
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from localwork import __version__
from localwork.errors import (
    LocalWorkError,
    McpCallTimedOut,
    McpCommandNotFound,
    McpError,
    McpProtocolError,
    McpServerCrashed,
    McpServerStartFailed,
    ToolError,
)
from localwork.tools.mcp.catalog import ToolInfo, tool_info
from localwork.tools.mcp.commands import resolve_command
from localwork.tools.mcp.config import HttpServer, StdioServer
from localwork.tools.mcp.results import CallResult, call_result
from localwork.tools.mcp.stderr import StderrTail
from localwork.tools.mcp.transport import StreamWatch, http_transport, stdio_transport, watched

log = logging.getLogger(__name__)

E = TypeVar("E", bound=McpError)

CLIENT_INFO = sdk.Implementation(name="localwork-hero", version=__version__)
# How long a server that let a call time out has to show that it still answers at all.
PROBE_SECONDS = 5.0
# The SDK's own shutdown of a stdio server takes at most about 7 s (stdin closed, SIGTERM, SIGKILL).
SHUTDOWN_SECONDS = 15.0
_LAST_WORDS_SECONDS = 1.0  # for a dead server's last stderr lines to come through
_TOOL_PAGES = 100  # a server whose tool list never ends cannot hang the start


@dataclass(frozen=True)
class Progress:
    """One progress notification for a call in flight."""

    progress: float
    total: float | None
    message: str | None


# Called on the manager's event-loop thread: it must be quick (publish an event, say).
ProgressCallback = Callable[[Progress], None]


class Connection:
    def __init__(
        self,
        name: str,
        config: StdioServer | HttpServer,
        *,
        max_binary_bytes: int,
        on_end: Callable[[McpError | None], None],
    ) -> None:
        self.name = name
        self._config = config
        self._max_binary_bytes = max_binary_bytes
        self._on_end = on_end  # when a session that was ready ends: None if asked to
        self._watch = StreamWatch()
        self._stderr: StderrTail | None = None
        self._client: Client | None = None
        self._tools: tuple[ToolInfo, ...] = ()
        self._task: asyncio.Task[None] | None = None
        self._scope: anyio.CancelScope | None = None
        self._failure: BaseException | None = None  # why the session could not start
        self._stop_asked = asyncio.Event()
        self._stop_reason: McpError | None = None
        self._settled = asyncio.Event()  # ready, or failed to start
        self._finished = asyncio.Event()  # the session is over and the process gone
        self._end: McpError | None = None
        self._probe: asyncio.Task[bool] | None = None

    @property
    def is_open(self) -> bool:
        return self._client is not None and not self._stop_asked.is_set()

    @property
    def tools(self) -> tuple[ToolInfo, ...]:
        return self._tools

    async def open(self) -> tuple[ToolInfo, ...]:
        """Start the server and list its tools, within the config's timeout.

        Raises:
            McpCommandNotFound, McpServerStartFailed, McpProtocolError, McpError (stopped).
        """
        transport = await self._transport()
        self._task = asyncio.create_task(self._hold(transport), name=f"mcp-{self.name}")
        try:
            async with asyncio.timeout(self._config.timeout):
                await self._settled.wait()
        except TimeoutError:
            await self.close()
            raise await self._start_timed_out() from None
        if self._client is None:
            await self._finished.wait()
            raise await self._start_failed()
        return self._tools

    async def refresh_tools(self) -> tuple[ToolInfo, ...]:
        client = self._open_client()
        self._tools = await self._list_tools(client, refresh=True)
        return self._tools

    async def call_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        timeout: float,
        on_progress: ProgressCallback | None = None,
    ) -> CallResult:
        """Call ``tool``; its result may be the server's own error (``is_error``).

        Raises:
            McpCallTimedOut, McpServerCrashed, McpProtocolError: the server failed the call.
            ToolError: the server refused it (an unknown tool, arguments it rejects).
        """
        client = self._open_client()
        relay = _relay(self.name, on_progress) if on_progress else None
        try:
            result = await client.call_tool(
                tool, dict(arguments), read_timeout_seconds=timeout, progress_callback=relay
            )
        except MCPError as error:
            raise await self._call_failed(tool, timeout, error) from None
        except (ValidationError, RuntimeError) as error:  # not a result, or not its schema's
            raise self._error(
                McpProtocolError,
                f"answered the call to {tool} with something that is not a valid result "
                f"({_first_line(error)}).",
            ) from None
        except httpx2.TransportError as error:
            self.stop()
            raise self._error(
                McpServerCrashed,
                f"lost its connection during the call to {tool} ({error}). It reconnects on its "
                "next use.",
            ) from None
        return call_result(result, self._max_binary_bytes)

    def stop(self, reason: McpError | None = None) -> None:
        """End the session soon; ``reason`` is what its calls and state then report."""
        if not self._stop_asked.is_set():
            self._stop_reason = reason
            self._stop_asked.set()

    async def close(self) -> None:
        """End the session and wait until the server process is gone."""
        self.stop()
        if not self._settled.is_set() and self._scope is not None:
            self._scope.cancel()  # still starting: the SDK's shutdown is shielded from this
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SHUTDOWN_SECONDS):
                    await self._finished.wait()

    # --- the session's own task ---------------------------------------------------------------

    async def _transport(self) -> Transport:
        config = self._config
        if isinstance(config, HttpServer):
            return watched(http_transport(config, self._watch), self._watch)
        if config.cwd and not os.path.isdir(os.path.expanduser(config.cwd)):
            raise self._error(
                McpServerStartFailed,
                f"cannot start: its working folder {config.cwd} does not exist. Fix it in the "
                "server's settings.",
            )
        try:
            command = await asyncio.to_thread(
                resolve_command, config.command, search_path=config.env.get("PATH"), cwd=config.cwd
            )
        except McpCommandNotFound as error:
            raise self._error(McpCommandNotFound, f"cannot start: {error.message}") from None
        self._stderr = StderrTail(self.name)
        return watched(stdio_transport(config, command, self._stderr), self._watch)

    async def _hold(self, transport: Transport) -> None:
        ready = False
        try:
            with anyio.CancelScope() as self._scope:
                async with Client(
                    transport, read_timeout_seconds=self._config.timeout, client_info=CLIENT_INFO
                ) as client:
                    self._tools = await self._list_tools(client)
                    self._client, ready = client, True
                    self._settled.set()
                    await self._until_stopped_or_lost()
                    self._client = None  # no new calls while the SDK shuts the server down
        except Exception as error:
            self._failure = error
        finally:
            self._client = None
            if self._stderr is not None:
                self._stderr.release_writer()
            self._settled.set()
            if ready:
                self._end = self._stop_reason if self._stop_asked.is_set() else await self._lost()
            self._finished.set()
            if ready:
                self._on_end(self._end)

    async def _until_stopped_or_lost(self) -> None:
        waits = {
            asyncio.create_task(self._stop_asked.wait()),
            asyncio.create_task(self._watch.ended.wait()),
        }
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _list_tools(self, client: Client, *, refresh: bool = False) -> tuple[ToolInfo, ...]:
        tools: list[sdk.Tool] = []
        cursor: str | None = None
        for _ in range(_TOOL_PAGES):
            page = await client.list_tools(
                cursor=cursor, cache_mode="refresh" if refresh else "use"
            )
            tools += page.tools
            cursor = page.next_cursor
            if not cursor:
                break
        return tuple(tool_info(self.name, tool) for tool in tools)

    def _open_client(self) -> Client:
        if self._client is None or self._stop_asked.is_set():
            raise self._end or self._error(McpError, "is not running.")
        return self._client

    # --- what went wrong, in words ------------------------------------------------------------

    async def _call_failed(self, tool: str, timeout: float, error: MCPError) -> LocalWorkError:
        if error.code == sdk.REQUEST_TIMEOUT:
            return await self._timed_out(tool, timeout)
        if error.code == sdk.CONNECTION_CLOSED:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SHUTDOWN_SECONDS):
                    await self._finished.wait()
            return self._end or self._error(McpError, "was stopped before it answered.")
        return ToolError(
            f"The MCP server {self.name!r} refused the call to {tool}: {error.message}"
        )

    async def _timed_out(self, tool: str, timeout: float) -> McpError:
        late = f"did not answer the call to {tool} within {timeout:g} s"
        if self._watch.garbage:
            problem = self._garbage_error(self._stderr_lines())
            self.stop(problem)
            return problem
        if await self._still_answers(timeout):
            return self._error(
                McpCallTimedOut,
                f"{late}, so the call was cancelled. The server still answers: try again, or "
                "give it a longer timeout in its settings.",
            )
        hung = self._error(
            McpCallTimedOut,
            f"{late}, and it stopped answering altogether: it was stopped, and starts again on "
            "its next use.",
            self._stderr_lines(),
        )
        self.stop(hung)
        return hung

    async def _still_answers(self, timeout: float) -> bool:
        # Ten calls that time out together share one probe.
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._probe_once(min(PROBE_SECONDS, timeout)))
        return await asyncio.shield(self._probe)

    async def _probe_once(self, timeout: float) -> bool:
        client = self._client
        if client is None:
            return False
        with anyio.move_on_after(timeout):
            try:
                await client.list_tools(cache_mode="bypass")
            except MCPError as error:  # an error is an answer too
                return error.code not in (sdk.REQUEST_TIMEOUT, sdk.CONNECTION_CLOSED)
            return True
        return False

    async def _lost(self) -> McpError:
        """Why a session that was ready ended without being asked to."""
        lines = await self._last_words()
        if self._watch.garbage:
            return self._garbage_error(lines)
        if isinstance(self._config, HttpServer):
            return self._error(
                McpServerCrashed,
                f"at {self._config.url} lost its connection. It reconnects on its next use.",
            )
        return self._error(
            McpServerCrashed,
            f"stopped{_exit_note(lines)}. It starts again on its next use; its last lines on "
            "stderr may say why.",
            lines,
        )

    async def _start_timed_out(self) -> McpError:
        lines = await self._last_words()
        if self._watch.garbage:
            return self._garbage_error(lines)
        return self._error(
            McpServerStartFailed,
            f"did not answer within {self._config.timeout:g} s of starting. "
            f"{self._what_to_check()} Or give it a longer timeout in its settings.",
            lines,
        )

    async def _start_failed(self) -> McpError:
        lines = await self._last_words()
        problem = _innermost(self._failure) if self._failure else None
        if self._watch.garbage:
            return self._garbage_error(lines)
        if problem is None:
            return self._error(McpError, "was stopped as it started.")
        if isinstance(problem, httpx2.HTTPError) and isinstance(self._config, HttpServer):
            return self._error(
                McpServerStartFailed,
                f"at {self._config.url} could not be reached ({problem}). {self._what_to_check()}",
            )
        if isinstance(problem, MCPError) and problem.code == sdk.CONNECTION_CLOSED and lines:
            return self._error(
                McpServerStartFailed,
                f"stopped as soon as it started{_exit_note(lines)}. {self._what_to_check()}",
                lines,
            )
        if isinstance(problem, ValidationError):
            return self._error(
                McpProtocolError,
                "answered the start of a session with something that is not MCP "
                f"({_first_line(problem)}).",
                lines,
            )
        if isinstance(problem, MCPError):
            detail = problem.message
        else:  # not one of the failures foreseen: the log keeps its traceback
            detail = _first_line(problem)
            log.warning("mcp server %s failed to start", self.name, exc_info=problem)
        return self._error(
            McpServerStartFailed, f"could not start ({detail}). {self._what_to_check()}", lines
        )

    def _what_to_check(self) -> str:
        if isinstance(self._config, StdioServer):
            return (
                "Check its command, arguments and environment; its last lines on stderr may say "
                "why."
            )
        status = self._watch.http_status
        if status in (401, 403):
            return f"It answered HTTP {status}: check its headers (an API key or token)."
        if status == 404:
            return "It answered HTTP 404: check the address (it often ends in /mcp)."
        answered = f" (it answered HTTP {status})" if status else ""
        return f"Check the address, and that the server is running{answered}."

    def _garbage_error(self, lines: tuple[str, ...]) -> McpProtocolError:
        return self._error(
            McpProtocolError,
            f"wrote {self._watch.garbage[-1]!r} where only MCP messages may go (its stdout). "
            "Check that the command starts an MCP server over stdio, and that nothing it runs "
            "prints to stdout.",
            lines,
        )

    def _error(self, kind: type[E], words: str, stderr_tail: tuple[str, ...] = ()) -> E:
        """An error of ``kind`` about this server: "The MCP server 'name' " + ``words``."""
        return kind(
            f"The MCP server {self.name!r} {words}", server=self.name, stderr_tail=stderr_tail
        )

    async def _last_words(self) -> tuple[str, ...]:
        if self._stderr is None:
            return ()
        await asyncio.to_thread(self._stderr.wait_closed, _LAST_WORDS_SECONDS)
        return self._stderr.lines()

    def _stderr_lines(self) -> tuple[str, ...]:
        return self._stderr.lines() if self._stderr else ()


def _relay(server: str, on_progress: ProgressCallback) -> ProgressFnT:
    async def relay(progress: float, total: float | None, message: str | None) -> None:
        try:
            on_progress(Progress(progress, total, message))
        except Exception:  # the caller's bug must not end the call
            log.exception("a progress callback for the MCP server %s failed", server)

    return relay


def _innermost(error: BaseException) -> BaseException:
    """The first real error inside the SDK's task groups' exception groups."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _exit_note(lines: tuple[str, ...]) -> str:
    """ " (it exited with status 3)": how the launcher saw the server end, when it said so."""
    for line in reversed(lines):
        if line.startswith("[the server ") and line.endswith("]"):
            return f" (it {line.removeprefix('[the server ').removesuffix(']')})"
    return ""


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
