"""``McpServerManager``: the MCP servers the app knows, for an app of plain threads.

Each server starts on its first use (or ``start``), and every method waits, with a timeout,
for the work it hands to the one background event loop (``loop.py``) that runs the SDK.
Servers fail alone: one that does not start or crashes leaves the others working.

    with McpServerManager(parse_mcp_servers(text)) as servers:
        tools = servers.list_tools("git")
        result = servers.call_tool("git", "git_status", {"repo_path": "/some/repo"})
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from localwork.errors import McpCallTimedOut, McpError, NotFound
from localwork.tools.mcp.catalog import ToolInfo
from localwork.tools.mcp.config import HttpServer, StdioServer
from localwork.tools.mcp.connection import PROBE_SECONDS, SHUTDOWN_SECONDS, ProgressCallback
from localwork.tools.mcp.loop import EventLoopThread, LoopTimeout
from localwork.tools.mcp.results import DEFAULT_MAX_BINARY_BYTES, CallResult
from localwork.tools.mcp.supervisor import Backoff, ServerState, Supervisor

log = logging.getLogger(__name__)

T = TypeVar("T")

# Beyond a server's own timeouts, how long a caller's thread waits before giving up on the
# loop: a backstop against a bug, never the timeout a user sees.
_BACKSTOP_MARGIN = PROBE_SECONDS + SHUTDOWN_SECONDS + 10.0


class McpServerManager:
    def __init__(
        self,
        servers: Mapping[str, StdioServer | HttpServer] | None = None,
        *,
        backoff: Backoff | None = None,
        max_binary_bytes: int = DEFAULT_MAX_BINARY_BYTES,
    ) -> None:
        self._backoff = backoff or Backoff()
        self._max_binary_bytes = max_binary_bytes
        self._loop = EventLoopThread()
        self._supervisors = {
            name: self._supervisor(name, config) for name, config in (servers or {}).items()
        }
        self._closed = False

    def __enter__(self) -> McpServerManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def names(self) -> list[str]:
        return list(self._supervisors)

    def state(self, server: str) -> ServerState:
        return self._supervisor_named(server).state

    def states(self) -> dict[str, ServerState]:
        return {name: supervisor.state for name, supervisor in self._supervisors.items()}

    def start(self, server: str) -> ServerState:
        """Start ``server`` now, if it is not running, and wait until it is ready.

        Raises:
            McpError: it could not start (its state says so too).
        """
        supervisor = self._supervisor_named(server)
        return self._run(supervisor.start(), supervisor.config.timeout)

    def start_all(self) -> dict[str, ServerState]:
        """Start every server that is turned on, together; failures show in their states."""
        supervisors = [each for each in self._supervisors.values() if each.config.enabled]

        async def start_each() -> None:
            await asyncio.gather(*(each.start() for each in supervisors), return_exceptions=True)

        longest = max((each.config.timeout for each in supervisors), default=0.0)
        self._run(start_each(), longest)
        return self.states()

    def list_tools(self, server: str, *, refresh: bool = False) -> tuple[ToolInfo, ...]:
        """The tools ``server`` offers, starting it if needed; ``refresh`` asks it again.

        Raises:
            McpError: it could not start.
        """
        supervisor = self._supervisor_named(server)
        return self._run(supervisor.list_tools(refresh=refresh), supervisor.config.timeout * 2)

    def call_tool(
        self,
        server: str,
        tool: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> CallResult:
        """Call ``tool`` on ``server``, starting the server if needed. A result whose
        ``is_error`` is set is the tool's own failure, in the server's words.

        ``timeout`` (default: the server's) bounds the call; ``on_progress`` hears its
        progress notifications, on the manager's loop thread.

        Raises:
            McpCallTimedOut: no answer in time (the call was cancelled; a server that stopped
                answering altogether is restarted on its next use).
            McpServerCrashed, McpProtocolError, McpError: the server failed, or could not start.
            ToolError: the server refused the call (no such tool, arguments it rejects).
        """
        supervisor = self._supervisor_named(server)
        call_timeout = timeout or supervisor.config.timeout
        work = supervisor.call_tool(tool, arguments or {}, timeout=timeout, on_progress=on_progress)
        return self._run(work, supervisor.config.timeout + call_timeout)

    def stop(self, server: str) -> None:
        """Stop ``server`` (its process group with it); its next use starts it again."""
        self._run(self._supervisor_named(server).stop(), 0)

    def set_servers(self, servers: Mapping[str, StdioServer | HttpServer]) -> None:
        """Use these servers from now on: removed or changed ones are stopped, the unchanged
        keep running."""
        kept = {
            name: supervisor
            for name, supervisor in self._supervisors.items()
            if servers.get(name) == supervisor.config
        }
        leaving = [supervisor for name, supervisor in self._supervisors.items() if name not in kept]
        self._supervisors = {
            name: kept.get(name) or self._supervisor(name, config)
            for name, config in servers.items()
        }
        self._stop_all(leaving)

    def close(self) -> None:
        """Stop every server, and the loop. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._stop_all(list(self._supervisors.values()))
        finally:
            self._loop.close()

    def _supervisor(self, name: str, config: StdioServer | HttpServer) -> Supervisor:
        return Supervisor(
            name, config, backoff=self._backoff, max_binary_bytes=self._max_binary_bytes
        )

    def _supervisor_named(self, server: str) -> Supervisor:
        if self._closed:
            raise McpError("The MCP servers have been shut down.", server=server)
        try:
            return self._supervisors[server]
        except KeyError:
            raise NotFound(f"There is no MCP server named {server!r}.") from None

    def _stop_all(self, supervisors: list[Supervisor]) -> None:
        async def stop_each() -> None:
            await asyncio.gather(*(each.stop() for each in supervisors), return_exceptions=True)

        try:
            self._loop.run(stop_each(), SHUTDOWN_SECONDS + 5.0)
        except LoopTimeout:
            # What is left dies with the loop's thread: each launcher's PDEATHSIG.
            log.warning("some MCP servers did not stop in time")

    def _run(self, work: Coroutine[Any, Any, T], timeouts: float) -> T:
        """Run ``work`` on the loop; ``timeouts`` is what its own timeouts add up to."""
        try:
            return self._loop.run(work, timeouts + _BACKSTOP_MARGIN)
        except LoopTimeout as error:
            raise McpCallTimedOut(f"The MCP servers did not answer in time ({error}).") from None
