"""The user's MCP servers file (``tools/mcp/store.py``): the mcpServers form other apps read,
our own keys beside it, a broken file set aside with a notice, and imports merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localwork.errors import InvalidRequest, McpConfigInvalid, NotFound
from localwork.tools.mcp.catalog import ToolAnnotations, ToolInfo
from localwork.tools.mcp.config import HttpServer, StdioServer, parse_mcp_servers
from localwork.tools.mcp.service import McpService, mask
from localwork.tools.mcp.store import McpEntry, McpStore, effective_policy

CLAUDE_DESKTOP = {
    "mcpServers": {
        "git": {"command": "uvx", "args": ["mcp-server-git"], "autoApprove": ["git_status"]},
        "remote": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer k"}},
    }
}


def tool(name: str, read_only: bool | None = None) -> ToolInfo:
    return ToolInfo(
        "s", name, name, "", {"type": "object"}, None, ToolAnnotations(read_only=read_only)
    )


@pytest.fixture
def service(tmp_path: Path):
    made = McpService(McpStore(tmp_path / "mcp.json"))
    yield made
    made.close()


def test_a_round_trip_keeps_every_key_and_stays_an_mcp_servers_document(tmp_path):
    path = tmp_path / "mcp.json"
    entries = {
        "time": McpEntry(
            StdioServer(command="uvx", args=("mcp-server-time",), env={"TZ": "UTC"}, timeout=12),
            start="at_launch",
            tool_policy={"get_current_time": "allow", "convert_time": "off"},
        ),
        "web": McpEntry(HttpServer(url="https://example.com/mcp", enabled=False)),
    }
    McpStore(path).replace(entries)

    assert McpStore(path).entries() == entries
    assert McpStore(path).notice is None
    written = json.loads(path.read_text("utf-8"))
    assert written["mcpServers"]["time"]["start"] == "at_launch"
    assert written["mcpServers"]["time"]["toolPolicy"]["convert_time"] == "off"
    assert written["mcpServers"]["web"]["disabled"] is True  # Cline's and Cursor's spelling
    # What another app reads (our keys ignored):
    others = parse_mcp_servers(path.read_text("utf-8"))
    assert others == {name: entry.config for name, entry in entries.items()}
    assert path.stat().st_mode & 0o777 == 0o600  # env and headers hold keys


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"mcpServers": {"x": {}}}',
        '{"mcpServers": {"x": {"command": "a", "start": 5}}}',
    ],
)
def test_a_broken_file_is_set_aside_whole_and_the_app_starts_without_servers(tmp_path, text):
    path = tmp_path / "mcp.json"
    path.write_text(text, encoding="utf-8")

    store = McpStore(path)

    assert store.entries() == {}
    (backup,) = tmp_path.glob("mcp.json.broken-*")
    assert backup.read_text("utf-8") == text  # the user's text is never lost
    assert not path.exists()
    assert store.notice is not None and backup.name in store.notice
    assert "could not be read" in store.notice and "no MCP servers" in store.notice


def test_an_import_merges_and_reports_what_it_skipped(service, tmp_path):
    service.add_stdio("git", "/usr/bin/true")
    done = service.import_document(json.dumps(CLAUDE_DESKTOP))
    assert done == {
        "added": ["remote"],
        "skipped": [{"name": "git", "reason": "a server of that name exists already"}],
    }
    assert service.names() == ["git", "remote"]
    saved = McpStore(tmp_path / "mcp.json").entries()
    assert saved["git"].config == StdioServer(command="/usr/bin/true")  # the user's own kept
    assert saved["remote"].config.headers == {"Authorization": "Bearer k"}


def test_an_import_that_is_not_mcp_servers_json_adds_nothing(service):
    with pytest.raises(McpConfigInvalid):
        service.import_document('{"servers": {"x": {"type": "sse", "url": "http://a/sse"}}}')
    assert service.names() == []


def test_adding_checks_the_name_and_the_settings(service):
    service.add_stdio("time", "uvx", ["mcp-server-time"])
    with pytest.raises(InvalidRequest, match="already"):
        service.add_stdio("time", "uvx")
    with pytest.raises(InvalidRequest, match="not a usable server name"):
        service.add_stdio("two words", "uvx")
    with pytest.raises(InvalidRequest, match="http"):
        service.add_http("web", "ftp://example.com")
    with pytest.raises(NotFound):
        service.remove("nothing")


def test_secrets_are_masked_in_the_listing(service):
    listed = service.add_stdio("a", "/usr/bin/true", env={"API_KEY": "sk-1234567890abcdef"})
    assert listed["env"] == {"API_KEY": "********cdef"}
    listed = service.add_http("b", "https://example.com/mcp", headers={"X-Key": "short"})
    assert listed["headers"] == {"X-Key": "********"}
    assert mask("") == "********"
    assert "sk-1234567890abcdef" not in json.dumps(service.overview())


def test_read_only_hint_preselects_allow_until_the_user_chooses():
    entry = McpEntry(StdioServer(command="x"))
    assert effective_policy(entry, tool("read", read_only=True)) == "allow"
    assert effective_policy(entry, tool("write")) == "ask"
    assert effective_policy(entry, tool("write", read_only=False)) == "ask"
    chosen = McpEntry(StdioServer(command="x"), tool_policy={"read": "ask", "write": "off"})
    assert effective_policy(chosen, tool("read", read_only=True)) == "ask"
    assert effective_policy(chosen, tool("write")) == "off"


def test_turning_off_and_policies_are_saved_and_reach_the_manager(service, tmp_path):
    service.add_stdio("a", "/usr/bin/true")
    assert [source.name for source in service.sources()] == ["a"]
    service.set_enabled("a", False)
    assert service.sources() == []
    assert service.manager.state("a").status == "disabled"
    service.set_tool_policy("a", "t", "allow")
    service.set_start("a", "at_launch")
    saved = McpStore(tmp_path / "mcp.json").entries()["a"]
    assert saved.tool_policy == {"t": "allow"} and saved.start == "at_launch"
    assert saved.config.enabled is False
    service.set_tool_policy("a", "t", None)  # back to the default
    assert McpStore(tmp_path / "mcp.json").entries()["a"].tool_policy == {}
    service.remove("a")
    assert service.manager.names() == []
