"""An MCP server as a tool source: mcp-server-time's tools beside the file tools, through the
runner (schema check, approval, audit) and through the agent loop (the in-process fake
engine writes the call; the real server answers it)."""

from __future__ import annotations

from localwork.tools.approval import UserAnswer
from localwork.tools.audit import AuditLog
from localwork.tools.mcp.source import McpToolSource
from localwork.tools.runner import ToolRunner
from localwork.tools.source import ToolSource
from tests.agent.conftest import fake_app, guided  # noqa: F401  (fake_app is a fixture)
from tests.mcp.conftest import MakeManager
from tests.support.mcp_servers import time_server


def test_a_servers_tools_run_through_the_runner_with_approval_and_audit(
    make_manager: MakeManager, tmp_path
):
    source = McpToolSource(make_manager({"time": time_server()}), "time")
    assert isinstance(source, ToolSource)
    audit = AuditLog(tmp_path / "audit.sqlite3")
    try:
        runner = ToolRunner([source], audit)  # available() started the server
        assert {"get_current_time", "convert_time"} <= set(runner.offered)
        assert runner.needs_approval("get_current_time")  # every MCP call is the user's to allow
        refused = runner.run("get_current_time", {"timezone": "UTC"})
        assert not refused.ok and "approval required" in refused.error
        bad = runner.run("get_current_time", {"zone": "UTC"}, approval="approved")
        assert not bad.ok and "invalid arguments" in bad.error
        done = runner.run("get_current_time", {"timezone": "UTC"}, approval="approved")
        assert done.ok and "UTC" in done.output["text"], done.output
        failed = runner.run(
            "get_current_time", {"timezone": "Nowhere/Atlantis"}, approval="approved"
        )
        assert not failed.ok and "the MCP server time says" in failed.error
        decisions = [(call["tool"], call["decision"]) for call in audit.calls()]
        assert decisions == [
            ("get_current_time", "refused"),
            ("get_current_time", "refused"),
            ("get_current_time", "approved"),
            ("get_current_time", "approved"),
        ]
    finally:
        audit.close()


def test_the_agent_calls_an_mcp_tool_with_no_folder_granted(fake_app, make_manager):  # noqa: F811
    source = McpToolSource(make_manager({"time": time_server()}), "time")
    s = fake_app(
        [*guided("get_current_time", timezone="UTC"), {"text": "Here is the time."}],
        None,
        tool_sources=(source,),
    )
    job = s.send("What time is it in UTC?")["job_id"]
    waiting = s.events.wait_for("tool_call", job_id=job)["call"]
    assert waiting["status"] == "waiting" and waiting["tool"] == "get_current_time"
    assert waiting["preview"]["summary"] == "Call get_current_time on the MCP server time"
    s.app.chat.decide(s.conversation_id, waiting["id"], UserAnswer("once"))
    message = s.done(job, timeout=60)["message"]
    (call,) = message["meta"]["tool_calls"]
    assert call["status"] == "done" and "UTC" in call["result"]["text"]
    (entry,) = s.app.folders.activity(10, s.conversation_id)
    assert entry["tool"] == "get_current_time" and entry["decision"] == "approved"
