"""The manager's life cycle: servers start on first use or on demand, stop on request, and a
new set of servers keeps the unchanged ones running."""

from __future__ import annotations

import pytest

from localwork.errors import NotFound
from tests.mcp.conftest import MakeManager
from tests.support.mcp_servers import fault_server, is_running, wait_until


def server_pid(servers, name: str) -> int:
    return servers.call_tool(name, "pids").structured["server"]


def test_a_server_starts_on_first_use_and_stops_on_request(make_manager: MakeManager):
    servers = make_manager({"a": fault_server("serve")})
    assert servers.state("a").status == "stopped" and servers.names() == ["a"]
    first = server_pid(servers, "a")  # the first use starts it
    assert servers.state("a").status == "ready" and servers.state("a").tool_count == 8

    servers.stop("a")
    assert servers.state("a").status == "stopped"
    wait_until(lambda: not is_running(first), 15, "the stopped server is gone")
    assert server_pid(servers, "a") != first  # its next use starts it again


def test_new_servers_keep_the_unchanged_running_and_stop_the_rest(make_manager: MakeManager):
    servers = make_manager({"same": fault_server("serve"), "changed": fault_server("serve")})
    same, changed = server_pid(servers, "same"), server_pid(servers, "changed")

    servers.set_servers(
        {
            "same": fault_server("serve"),
            "changed": fault_server("serve", timeout=12),
            "new": fault_server("serve"),
        }
    )
    assert server_pid(servers, "same") == same
    wait_until(lambda: not is_running(changed), 15, "the changed server was stopped")
    assert servers.state("changed").status == "stopped"
    assert server_pid(servers, "changed") != changed

    servers.set_servers({"new": fault_server("serve")})
    assert servers.names() == ["new"]
    wait_until(lambda: not is_running(same), 15, "the removed server was stopped")


def test_a_name_that_is_no_server_is_not_found(make_manager: MakeManager):
    servers = make_manager({})
    with pytest.raises(NotFound, match="no MCP server named 'ghost'"):
        servers.list_tools("ghost")
