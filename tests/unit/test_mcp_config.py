"""MCP server settings: the ``mcpServers`` JSON that Claude Desktop, Cursor, LM Studio, Cline
and VS Code write, read into typed configs, and a malformed one refused with its fields named."""

import json

import pytest

from localwork.errors import McpConfigInvalid, SettingsError, from_dict
from localwork.tools.mcp.config import (
    DEFAULT_TIMEOUT_SECONDS,
    HttpServer,
    StdioServer,
    parse_mcp_servers,
    to_mcp_servers_json,
)

CLAUDE_DESKTOP = {
    "mcpServers": {
        "filesystem": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"],
        },
        "git": {"command": "uvx", "args": ["mcp-server-git"], "env": {"GIT_PAGER": "cat"}},
        "remote": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer x"}},
    }
}


def test_the_claude_desktop_form_reads_as_stdio_and_http_servers():
    servers = parse_mcp_servers(json.dumps(CLAUDE_DESKTOP))
    assert servers["filesystem"] == StdioServer(
        command="npx", args=("-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop")
    )
    assert servers["git"].transport == "stdio" and servers["git"].env == {"GIT_PAGER": "cat"}
    assert servers["remote"] == HttpServer(
        url="https://example.com/mcp", headers={"Authorization": "Bearer x"}
    )
    assert all(s.timeout == DEFAULT_TIMEOUT_SECONDS and s.enabled for s in servers.values())


def test_other_apps_spellings_are_understood():
    servers = parse_mcp_servers(
        {
            "servers": {  # VS Code
                "a": {"type": "stdio", "command": "node", "args": ["server.js"], "cwd": "/srv"},
                "b": {"type": "http", "url": "http://127.0.0.1:3001/mcp"},
                # Cline: disabled, a timeout in seconds, and keys only it understands
                "c": {"command": "uvx", "disabled": True, "timeout": 60, "autoApprove": []},
            }
        }
    )
    assert servers["a"] == StdioServer(command="node", args=("server.js",), cwd="/srv")
    assert isinstance(servers["b"], HttpServer)
    assert servers["c"].enabled is False and servers["c"].timeout == 60


def test_servers_written_back_read_the_same():
    servers = parse_mcp_servers(CLAUDE_DESKTOP)
    servers["off"] = StdioServer(command="/opt/server", enabled=False, timeout=5)
    written = to_mcp_servers_json(servers)
    assert written["mcpServers"]["filesystem"] == CLAUDE_DESKTOP["mcpServers"]["filesystem"]
    assert written["mcpServers"]["off"] == {
        "command": "/opt/server",
        "timeout": 5.0,
        "disabled": True,
    }
    assert parse_mcp_servers(json.dumps(written)) == servers


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ({"args": ["x"]}, "", 'needs a "command"'),
        ({"command": "x", "url": "http://h"}, "", "give one"),
        ({"command": "x", "args": "-y"}, ".args", "list"),
        ({"command": "x", "env": {"N": 1}}, ".env.N", "string"),
        ({"command": "x", "timeout": 0}, ".timeout", "greater"),
        ({"command": "x", "cwd": "here"}, ".cwd", "absolute"),
        ({"url": "ftp://h/x"}, ".url", "http://"),
        ({"type": "sse", "url": "http://h"}, "", "SSE"),
        ({"type": "stdio", "url": "http://h"}, "", '"command"'),
    ],
)
def test_a_malformed_server_is_refused_naming_what_is_wrong(entry, field, words):
    with pytest.raises(McpConfigInvalid) as caught:
        parse_mcp_servers(json.dumps({"mcpServers": {"a": entry}}))
    error = caught.value
    assert error.code == "mcp_config_invalid" and isinstance(error, SettingsError)
    assert words in error.fields[f"mcpServers.a{field}"]
    assert f"mcpServers.a{field}: " in error.message


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ('{"mcpServers": {', "not valid JSON (line 1"),
        ("[1, 2]", "must be a JSON object"),
        ('{"mcpServers": ["a"]}', "must be a JSON object"),
        ('{"mcpServers": {"": {"command": "x"}}}', 'mcpServers."": not a usable name'),
    ],
)
def test_a_malformed_document_is_refused_saying_why(document, words):
    with pytest.raises(McpConfigInvalid) as caught:
        parse_mcp_servers(document)
    assert words in caught.value.message


def test_every_problem_is_named_at_once():
    document = {"mcpServers": {"a": {"command": "x", "timeout": -1}, "b": {"url": "nope"}}}
    with pytest.raises(McpConfigInvalid) as caught:
        parse_mcp_servers(document)
    assert set(caught.value.fields) == {"mcpServers.a.timeout", "mcpServers.b.url"}
    rebuilt = from_dict(caught.value.to_dict())  # as the page would get it
    assert isinstance(rebuilt, McpConfigInvalid) and rebuilt.fields == caught.value.fields
