"""One server over time: its state, its connection, and its restarts (async, on the loop).

A server starts on its first use, or when asked to; uses that arrive meanwhile share that one
start. When it fails to start or crashes, its state says why, and its next use starts it
again: at once the first time, then only after a delay that doubles with each failure in a
row (up to a minute), so a broken server is not restarted on every call. A call it answers
clears the count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from localwork.errors import McpError, McpServerStartFailed
from localwork.tools.mcp.catalog import ToolInfo
from localwork.tools.mcp.config import HttpServer, StdioServer
from localwork.tools.mcp.connection import Connection, ProgressCallback
from localwork.tools.mcp.results import CallResult

log = logging.getLogger(__name__)

Status = Literal["disabled", "stopped", "starting", "ready", "failed"]


@dataclass(frozen=True)
class ServerState:
    name: str
    status: Status
    tools: tuple[ToolInfo, ...] = ()  # ready: what it offers
    error: McpError | None = None  # failed: what happened, its stderr tail, what to do
    retry_at: float | None = None  # failed: time.monotonic() before which it is not restarted

    @property
    def tool_count(self) -> int:
        return len(self.tools)


@dataclass(frozen=True)
class Backoff:
    first_delay: float = 1.0
    longest_delay: float = 60.0

    def delay(self, failures: int) -> float:
        """Seconds before the next start after ``failures`` in a row: none after the first."""
        if failures <= 1:
            return 0.0
        return min(self.longest_delay, self.first_delay * 2 ** (failures - 2))


class Supervisor:
    def __init__(
        self,
        name: str,
        config: StdioServer | HttpServer,
        *,
        backoff: Backoff,
        max_binary_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.config = config
        self.state = ServerState(name, "stopped" if config.enabled else "disabled")
        self._backoff = backoff
        self._max_binary_bytes = max_binary_bytes
        self._clock = clock
        self._connection: Connection | None = None  # the one calls use
        self._closing: set[Connection] = set()  # given up on, their processes not gone yet
        self._starting: asyncio.Task[Connection] | None = None
        self._failures = 0  # in a row

    async def start(self) -> ServerState:
        await self._connected()
        return self.state

    async def list_tools(self, *, refresh: bool = False) -> tuple[ToolInfo, ...]:
        connection = await self._connected()
        if refresh:
            tools = await connection.refresh_tools()
            self.state = replace(self.state, tools=tools)
        return self.state.tools

    async def call_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        timeout: float | None,
        on_progress: ProgressCallback | None,
    ) -> CallResult:
        connection = await self._connected()
        try:
            result = await connection.call_tool(
                tool, arguments, timeout=timeout or self.config.timeout, on_progress=on_progress
            )
        except McpError as error:
            if self._connection is connection and not connection.is_open:
                # It is being stopped (it hung): say so now, not once its process is gone.
                self._give_up(connection, error)
            raise
        self._failures = 0
        return result

    async def stop(self) -> None:
        closing = {*self._closing, *([self._connection] if self._connection else [])}
        self._connection, self._closing = None, set()
        await asyncio.gather(*(each.close() for each in closing))
        if self.state.status != "disabled":
            self.state = ServerState(self.name, "stopped")

    async def _connected(self) -> Connection:
        """The open connection, starting the server when it is not running.

        Raises:
            McpError: why it is not running (turned off, failed to start, waiting to retry).
        """
        if self._connection is not None and self._connection.is_open:
            return self._connection
        if not self.config.enabled:
            raise McpError(
                f"The MCP server {self.name!r} is turned off; turn it on in its settings.",
                server=self.name,
            )
        if self._starting is None:
            self._refuse_while_backing_off()
            self._starting = asyncio.create_task(self._start(), name=f"mcp-start-{self.name}")
        # Shielded: a caller that gives up does not cancel the start the others wait for.
        return await asyncio.shield(self._starting)

    async def _start(self) -> Connection:
        self.state = ServerState(self.name, "starting")
        connection = Connection(
            self.name,
            self.config,
            max_binary_bytes=self._max_binary_bytes,
            on_end=lambda end: self._ended(connection, end),
        )
        self._connection = connection
        try:
            tools = await connection.open()
        except McpError as error:
            if self._connection is connection:  # not stopped meanwhile
                self._failed(error)
            raise
        except Exception as error:  # a bug of ours, or the SDK's: still shown as a failure
            log.exception("the MCP server %s failed to start", self.name)
            failure = McpServerStartFailed(
                f"The MCP server {self.name!r} could not start ({error!r}).", server=self.name
            )
            self._failed(failure)
            raise failure from error
        finally:
            self._starting = None
        self.state = ServerState(self.name, "ready", tools=tools)
        log.info("mcp server %s is ready with %d tools", self.name, len(tools))
        return connection

    def _ended(self, connection: Connection, end: McpError | None) -> None:
        self._closing.discard(connection)
        if self._connection is not connection:
            return  # given up on already
        self._connection = None
        if end is None:
            self.state = ServerState(self.name, "stopped")
        else:
            self._failed(end)

    def _give_up(self, connection: Connection, error: McpError) -> None:
        self._closing.add(connection)
        self._connection = None
        self._failed(error)

    def _failed(self, error: McpError) -> None:
        log.warning("mcp server %s failed: %s", self.name, error.message)
        self._failures += 1
        retry_at = self._clock() + self._backoff.delay(self._failures)
        self.state = ServerState(self.name, "failed", error=error, retry_at=retry_at)

    def _refuse_while_backing_off(self) -> None:
        state = self.state
        if state.status != "failed" or state.error is None or state.retry_at is None:
            return
        wait = state.retry_at - self._clock()
        if wait > 0:
            error = state.error
            raise type(error)(
                f"{error.message} It is tried again in {max(1, round(wait))} s.",
                server=error.server,
                stderr_tail=error.stderr_tail,
            )
