"""The Settings pane's MCP bridge methods (``transports/bridge.py`` ``_McpMethods``) on an app
with the REAL mcp-server-time: listing with states, tools, policies and token costs; adding,
importing, turning off, restarting, removing; secrets masked; a broken file's notice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from localwork.app import App
from localwork.transports.bridge import Bridge
from tests.support.mcp_servers import python_server

SECRET = "sk-test-0123456789abcdef"


@pytest.fixture
def bridge(app: App) -> Bridge:
    return Bridge(app)


def ok(bridge: Bridge, method: str, **params: Any) -> Any:
    reply = bridge.dispatch(method, params)
    assert reply["ok"], reply
    return reply["data"]


def add_time(bridge: Bridge) -> dict[str, Any]:
    return ok(
        bridge,
        "mcp_add_stdio",
        name="time",
        command=python_server("mcp-server-time"),
        env={"API_KEY": SECRET},
        timeout=20,
    )


def test_a_server_is_added_listed_with_its_tools_and_costs(bridge):
    added = add_time(bridge)
    assert added["kind"] == "stdio" and added["state"] == "stopped"
    assert added["env"] == {"API_KEY": "********cdef"}
    assert (added["enabled"], added["start"], added["timeout"]) == (True, "on_use", 20.0)

    listed = ok(bridge, "mcp_servers", start=True)
    (server,) = listed["servers"]
    assert server["state"] == "ready" and server["state_text"] == "ready (2 tools)"
    assert server["error"] is None and server["advice"] is None
    tools = {tool["name"]: tool for tool in server["tools"]}
    assert set(tools) == {"get_current_time", "convert_time"}
    assert tools["get_current_time"]["read_only_hint"] is True
    assert tools["get_current_time"]["policy"] == "allow"  # pre-selected by the hint
    assert tools["get_current_time"]["chosen"] is None  # the user has not chosen
    assert server["tool_tokens"]["tokens"] > 0
    assert server["tool_tokens"]["exact"] is False  # no model is loaded to count with
    assert listed["offered_tools"] == 2  # no folder granted: only the server's tools
    assert listed["offered_tokens"]["tokens"] >= server["tool_tokens"]["tokens"]
    assert listed["notice"] is None
    assert SECRET not in json.dumps(listed)


def test_a_tool_turned_off_is_not_offered_and_its_choice_is_kept(bridge):
    add_time(bridge)
    ok(bridge, "mcp_servers", start=True)
    changed = ok(bridge, "mcp_set_tool_policy", name="time", tool="convert_time", policy="off")
    convert = next(tool for tool in changed["tools"] if tool["name"] == "convert_time")
    assert (convert["policy"], convert["chosen"]) == ("off", "off")
    assert ok(bridge, "mcp_servers")["offered_tools"] == 1
    back = ok(bridge, "mcp_set_tool_policy", name="time", tool="convert_time", policy=None)
    convert = next(tool for tool in back["tools"] if tool["name"] == "convert_time")
    assert (convert["policy"], convert["chosen"]) == ("allow", None)
    bad = bridge.dispatch(
        "mcp_set_tool_policy", {"name": "time", "tool": "convert_time", "policy": "never"}
    )
    assert bad["error"]["code"] == "invalid_request"


def test_turning_off_restarting_and_removing(bridge, app):
    add_time(bridge)
    off = ok(bridge, "mcp_set_enabled", name="time", enabled=False)
    assert (off["enabled"], off["state"], off["state_text"]) == (False, "disabled", "off")
    assert app.mcp.sources() == []
    ok(bridge, "mcp_set_enabled", name="time", enabled=True)
    restarted = ok(bridge, "mcp_restart", name="time")
    assert restarted["state_text"] == "ready (2 tools)"
    assert ok(bridge, "mcp_set_start", name="time", start="at_launch")["start"] == "at_launch"
    assert ok(bridge, "mcp_set_timeout", name="time", timeout=5)["timeout"] == 5.0
    assert ok(bridge, "mcp_remove", name="time") == {"removed": "time"}
    assert ok(bridge, "mcp_servers")["servers"] == []
    gone = bridge.dispatch("mcp_restart", {"name": "time"})
    assert gone["error"]["code"] == "not_found"


def test_a_failing_server_says_why_and_what_to_do(bridge):
    ok(bridge, "mcp_add_stdio", name="gone", command="no-such-mcp-server-cmd", args=["-x"])
    (server,) = ok(bridge, "mcp_servers", start=True)["servers"]
    assert server["state"] == "failed"
    assert server["state_text"].startswith("failed: command not found: no-such-mcp-server-cmd")
    assert server["error"]["code"] == "mcp_command_not_found"
    assert "full path" in server["advice"]
    assert (server["command"], server["args"]) == ("no-such-mcp-server-cmd", ["-x"])


def test_import_merges_and_http_headers_are_masked(bridge):
    add_time(bridge)
    document = {
        "mcpServers": {
            "time": {"command": "uvx", "args": ["mcp-server-time"]},
            "web": {"url": "https://example.com/mcp", "headers": {"Authorization": SECRET}},
        }
    }
    done = ok(bridge, "mcp_import", text=json.dumps(document))
    assert done["added"] == ["web"]
    assert done["skipped"] == [{"name": "time", "reason": "a server of that name exists already"}]
    web = ok(bridge, "mcp_servers")["servers"][1]
    assert web["kind"] == "http" and web["url"] == "https://example.com/mcp"
    assert web["headers"] == {"Authorization": "********cdef"}
    invalid = bridge.dispatch("mcp_import", {"text": "{nope"})
    assert invalid["error"]["code"] == "mcp_config_invalid"
    http = ok(bridge, "mcp_add_http", name="api", url="https://a.example/mcp", headers={"K": "v"})
    assert http["headers"] == {"K": "********"}


def test_a_broken_mcp_file_is_a_notice_not_a_failed_start(paths):
    paths.mcp_file.write_text('{"mcpServers": ', encoding="utf-8")
    app = App(paths)
    try:
        notice = Bridge(app).dispatch("app_info", {})["data"]["notice"]
        assert "MCP servers file could not be read" in notice
        assert "mcp.json.broken-" in notice
        assert ok(Bridge(app), "mcp_servers")["notice"] == notice
    finally:
        app.close()
    assert list(paths.config_dir.glob("mcp.json.broken-*"))
