"""Every way an MCP server can fail, each a coded error that says what to do, and none taking
the others down: a missing command, a start that fails or never answers, an HTTP server that
refuses, a crash mid-call, a hang, garbage on stdout, a malformed result, ten calls at once,
the app SIGKILLed."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from localwork.errors import (
    McpCallTimedOut,
    McpCommandNotFound,
    McpConfigInvalid,
    McpError,
    McpProtocolError,
    McpServerCrashed,
    McpServerStartFailed,
    from_dict,
)
from localwork.tools.mcp.config import HttpServer, StdioServer, parse_mcp_servers
from localwork.tools.mcp.connection import Progress
from localwork.tools.mcp.supervisor import Backoff
from tests.mcp.conftest import MakeManager
from tests.support.mcp_fault_servers import CRASH_STATUS, GARBAGE, START_FAILURE
from tests.support.mcp_servers import REPO_ROOT, fault_server, is_running, time_server, wait_until

# Short, so that the timeouts fire soon; generous beside what the fault servers need.
SHORT = 3.0


def test_a_command_that_does_not_exist_says_what_to_install(
    make_manager: MakeManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npx here, nor on the (absent) login shell's
    monkeypatch.setenv("SHELL", str(tmp_path / "no-shell"))
    servers = make_manager(
        {"node": StdioServer(command="npx", args=("-y", "some-server")), "other": time_server()}
    )
    with pytest.raises(McpCommandNotFound) as caught:
        servers.call_tool("node", "anything")
    error = caught.value
    assert error.code == "mcp_command_not_found" and error.server == "node"
    assert "command not found: npx" in error.message and "install Node.js" in error.message
    assert "full path" in error.message
    assert servers.state("node").status == "failed" and servers.state("node").error == error
    assert servers.list_tools("other")  # a full path needs no PATH


def test_a_server_that_exits_at_start_fails_with_its_last_words(make_manager: MakeManager):
    servers = make_manager({"broken": fault_server("exit_at_start")})
    with pytest.raises(McpServerStartFailed) as caught:
        servers.start("broken")
    error = caught.value
    assert "stopped as soon as it started (it exited with status 1)" in error.message
    assert START_FAILURE in error.stderr_tail
    state = servers.state("broken")
    assert state.status == "failed" and state.error is error
    rebuilt = from_dict(error.to_dict())  # the page gets the same, stderr tail included
    assert isinstance(rebuilt, McpServerStartFailed) and rebuilt.stderr_tail == error.stderr_tail


def test_a_server_that_never_answers_fails_to_start_within_its_timeout(make_manager: MakeManager):
    servers = make_manager({"mute": fault_server("silent", timeout=SHORT)})
    started = time.monotonic()
    with pytest.raises(McpServerStartFailed) as caught:
        servers.start("mute")
    assert f"did not answer within {SHORT:g} s" in caught.value.message
    assert time.monotonic() - started < SHORT + 20


def test_a_server_that_crashes_mid_call_is_shown_and_restarts_on_next_use(
    make_manager: MakeManager,
):
    servers = make_manager({"fragile": fault_server("serve")})
    first = servers.call_tool("fragile", "pids").structured["server"]
    with pytest.raises(McpServerCrashed) as caught:
        servers.call_tool("fragile", "crash", {"last_words": "out of disk space"})
    error = caught.value
    assert f"(it exited with status {CRASH_STATUS})" in error.message
    assert "out of disk space" in error.stderr_tail
    assert servers.state("fragile").status == "failed"
    wait_until(lambda: not is_running(first), 15, "the crashed server is gone")

    second = servers.call_tool("fragile", "pids").structured["server"]  # its next use
    assert second != first and servers.state("fragile").status == "ready"


def test_a_server_that_keeps_crashing_is_restarted_only_after_a_growing_delay(
    make_manager: MakeManager,
):
    servers = make_manager({"fragile": fault_server("serve")}, backoff=Backoff(first_delay=3.0))
    for _ in range(2):
        with pytest.raises(McpServerCrashed):
            servers.call_tool("fragile", "crash", {"last_words": "again"})
    with pytest.raises(McpServerCrashed) as caught:  # the second crash in a row: wait first
        servers.call_tool("fragile", "echo", {"text": "now?"})
    assert re.search(r"It is tried again in [1-3] s\.$", caught.value.message)
    wait_until(lambda: time.monotonic() >= servers.state("fragile").retry_at, 10, "backoff over")
    assert servers.call_tool("fragile", "echo", {"text": "now"}).text() == "now"


def test_a_call_that_hangs_times_out_and_the_server_keeps_serving(make_manager: MakeManager):
    servers = make_manager({"slow": fault_server("serve", timeout=SHORT)})
    before = servers.call_tool("slow", "pids").structured["server"]
    with pytest.raises(McpCallTimedOut) as caught:
        servers.call_tool("slow", "stall")
    assert caught.value.code == "mcp_call_timed_out"
    assert f"within {SHORT:g} s" in caught.value.message and "still answers" in caught.value.message
    assert servers.call_tool("slow", "pids").structured["server"] == before  # the same process


def test_a_server_that_hangs_is_stopped_and_a_new_one_serves_the_next_call(
    make_manager: MakeManager,
):
    servers = make_manager({"frozen": fault_server("serve", timeout=SHORT)})
    before = servers.call_tool("frozen", "pids").structured["server"]
    with pytest.raises(McpCallTimedOut) as caught:
        servers.call_tool("frozen", "freeze")
    assert "stopped answering altogether" in caught.value.message
    assert servers.state("frozen").status == "failed"
    wait_until(lambda: not is_running(before), 20, "the hung server was killed")
    after = servers.call_tool("frozen", "pids").structured["server"]
    assert after != before


def test_garbage_on_stdout_is_a_protocol_error(make_manager: MakeManager):
    servers = make_manager({"noisy": fault_server("garbage", timeout=SHORT)})
    with pytest.raises(McpProtocolError) as caught:
        servers.start("noisy")
    assert caught.value.code == "mcp_protocol_error"
    assert GARBAGE in caught.value.message and "stdout" in caught.value.message


def test_a_malformed_result_is_a_protocol_error_and_the_server_stays(make_manager: MakeManager):
    servers = make_manager({"sloppy": fault_server("bad_result")})
    assert [tool.name for tool in servers.list_tools("sloppy")] == ["broken"]
    with pytest.raises(McpProtocolError) as caught:
        servers.call_tool("sloppy", "broken")
    assert "not a valid result" in caught.value.message
    assert servers.state("sloppy").status == "ready"


def test_the_tool_s_own_failure_is_a_result_marked_as_the_server_s_error(
    make_manager: MakeManager,
):
    servers = make_manager({"server": fault_server("serve")})
    result = servers.call_tool("server", "fail", {"reason": "the file is locked"})
    assert result.is_error and "the file is locked" in result.text()


class _Refusing(http.server.BaseHTTPRequestHandler):
    """An HTTP endpoint that refuses every request with 401, noting the headers it got."""

    headers_seen: ClassVar[list[dict[str, str]]] = []

    def do_POST(self) -> None:
        self.headers_seen.append(dict(self.headers))
        self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_an_http_server_that_refuses_got_the_headers_and_its_answer_is_told(
    make_manager: MakeManager,
):
    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{endpoint.server_port}/mcp"
        headers = {"Authorization": "Bearer not-the-right-one"}
        servers = make_manager({"remote": HttpServer(url=url, headers=headers)})
        with pytest.raises(McpServerStartFailed) as caught:
            servers.start("remote")
    finally:
        endpoint.shutdown()
        endpoint.server_close()
    assert "HTTP 401: check its headers" in caught.value.message
    assert _Refusing.headers_seen[0]["Authorization"] == "Bearer not-the-right-one"


def test_one_broken_server_beside_a_good_one(make_manager: MakeManager):
    servers = make_manager(
        {
            "broken": fault_server("exit_at_start"),
            "good": fault_server("serve"),
            "missing": StdioServer(command="/nowhere/mcp-server"),
            "off": fault_server("serve", enabled=False),
        }
    )
    states = servers.start_all()
    assert {name: state.status for name, state in states.items()} == {
        "broken": "failed",
        "good": "ready",
        "missing": "failed",
        "off": "disabled",
    }
    assert isinstance(states["missing"].error, McpCommandNotFound)
    assert servers.call_tool("good", "add", {"a": 2, "b": 40}).text() == "42"
    with pytest.raises(McpError, match="turned off"):
        servers.call_tool("off", "echo", {"text": "x"})


def test_ten_concurrent_calls_share_one_server_and_each_gets_its_answer(
    make_manager: MakeManager,
):
    servers = make_manager({"busy": fault_server("serve")})
    answers: dict[int, str] = {}
    pids: set[int] = set()
    failures: list[BaseException] = []
    go = threading.Barrier(10)

    def call(number: int) -> None:
        try:
            go.wait()  # all ten ask before the server has started
            answers[number] = servers.call_tool("busy", "echo", {"text": f"call {number}"}).text()
            pids.add(servers.call_tool("busy", "pids").structured["server"])
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=call, args=(number,)) for number in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures
    assert answers == {number: f"call {number}" for number in range(10)}
    assert len(pids) == 1


def test_progress_reaches_the_caller_and_a_failing_callback_does_not_end_the_call(
    make_manager: MakeManager,
):
    servers = make_manager({"server": fault_server("serve")})
    heard: list[Progress] = []

    def listen(progress: Progress) -> None:
        heard.append(progress)
        raise RuntimeError("the listener's own bug")

    result = servers.call_tool("server", "progress", {"steps": 3}, on_progress=listen)
    assert result.text() == "3 steps done"
    assert [p.message for p in heard] == ["step 1 of 3", "step 2 of 3", "step 3 of 3"]


def test_closing_stops_every_server_and_what_it_started(make_manager: MakeManager):
    servers = make_manager({"a": fault_server("family"), "b": fault_server("family")})
    pids = [
        pid for name in ("a", "b") for pid in servers.call_tool(name, "pids").structured.values()
    ]
    servers.close()
    wait_until(lambda: not any(is_running(pid) for pid in pids), 15, "servers and helpers exited")
    with pytest.raises(McpError, match="shut down"):
        servers.call_tool("a", "echo", {"text": "x"})


# The "app": a process that starts a server with a helper of its own, says their pids, waits.
_APP = f"""
import json, sys, time
sys.path[:0] = {[str(REPO_ROOT / "backend"), str(REPO_ROOT)]!r}
from localwork.tools.mcp.manager import McpServerManager
from tests.support.mcp_servers import fault_server
servers = McpServerManager({{"family": fault_server("family")}})
print(json.dumps(servers.call_tool("family", "pids").structured), flush=True)
time.sleep(600)
"""


def test_the_app_sigkilled_leaves_no_server_running():
    app = subprocess.Popen([sys.executable, "-c", _APP], stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None
        pids = json.loads(app.stdout.readline())
        assert all(is_running(pid) for pid in pids.values())
    finally:
        os.kill(app.pid, signal.SIGKILL)
        app.wait()
    # Nobody closed anything: the launcher heard of the app's death and took its group down.
    wait_until(lambda: not any(is_running(pid) for pid in pids.values()), 15, "the server is gone")


def test_a_malformed_config_is_a_clear_coded_error():
    with pytest.raises(McpConfigInvalid) as caught:
        parse_mcp_servers('{"mcpServers": {"git": {"command": "uvx", "args": "mcp-server-git"}}}')
    error = caught.value
    assert error.code == "mcp_config_invalid"
    assert "mcpServers.git.args" in error.message and "mcpServers.git.args" in error.fields
