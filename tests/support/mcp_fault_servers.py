"""Tiny stdio MCP servers that misbehave on purpose, for the client's fault tests.

Run as ``python -m tests.support.mcp_fault_servers MODE`` from the repository's root (the
tests set the server's working folder to it). It imports nothing of the app.

Modes:
    serve           a real MCP server (the SDK's ``MCPServer``) whose tools misbehave on
                    request: ``echo``, ``add``, ``progress``, ``fail`` (an ``isError``
                    result), ``pids``, ``crash`` (dies mid-call), ``stall`` (only that call
                    hangs), ``freeze`` (the whole server hangs)
    family          ``serve``, plus a helper process it starts, as npx starts node
    exit_at_start   writes a reason on stderr and exits before speaking MCP
    silent          reads everything, answers nothing
    garbage         answers every line with a line that is not JSON
    bad_result      speaks MCP by hand, and answers a tool call with a malformed result
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

CRASH_STATUS = 3
GARBAGE = "this is not MCP"
START_FAILURE = "fatal: the MCP_TEST_TOKEN variable is not set"
_helper: subprocess.Popen[bytes] | None = None


def serve() -> None:
    server = MCPServer("fault-server")
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False)

    @server.tool(annotations=read_only)
    def echo(text: str) -> str:
        return text

    @server.tool(annotations=read_only)
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(annotations=read_only)
    async def progress(steps: int, ctx: Context) -> str:
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step} of {steps}")
        return f"{steps} steps done"

    @server.tool()
    def fail(reason: str) -> str:
        raise ToolError(reason)

    @server.tool(annotations=read_only)
    def pids() -> dict[str, int | None]:
        return {"server": os.getpid(), "helper": _helper.pid if _helper else None}

    @server.tool()
    def crash(last_words: str) -> str:
        print(last_words, file=sys.stderr, flush=True)
        os._exit(CRASH_STATUS)

    @server.tool()
    async def stall() -> str:
        await anyio.sleep_forever()  # this call hangs; the server still answers others
        return "never"

    @server.tool()
    async def freeze() -> str:
        time.sleep(3600)  # blocks the server's event loop: nothing answers any more
        return "never"

    server.run("stdio")


def family() -> None:
    global _helper
    # A child that outlives nothing on its own: it sleeps until someone kills it.
    _helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    serve()


def exit_at_start() -> None:
    print(START_FAILURE, file=sys.stderr, flush=True)
    raise SystemExit(1)


def silent() -> None:
    for _ in sys.stdin:
        pass


def garbage() -> None:
    for _ in sys.stdin:
        print(GARBAGE, flush=True)


def bad_result() -> None:
    """Just enough of the classic handshake, by hand, to reach a tool call."""
    for line in sys.stdin:
        message = json.loads(line)
        if "id" not in message:
            continue  # a notification
        method = message.get("method")
        if method == "initialize":
            answer: dict[str, Any] = {
                "result": {
                    "protocolVersion": message["params"]["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "bad-result", "version": "1"},
                }
            }
        elif method == "tools/list":
            answer = {"result": {"tools": [{"name": "broken", "inputSchema": {"type": "object"}}]}}
        elif method == "tools/call":
            answer = {"result": {"content": "a list was expected here"}}
        else:  # server/discover among them: this server is of the classic kind
            answer = {"error": {"code": -32601, "message": f"no such method: {method}"}}
        print(json.dumps({"jsonrpc": "2.0", "id": message["id"], **answer}), flush=True)


MODES = {
    "serve": serve,
    "family": family,
    "exit_at_start": exit_at_start,
    "silent": silent,
    "garbage": garbage,
    "bad_result": bad_result,
}

if __name__ == "__main__":
    MODES[sys.argv[1]]()
