"""The MCP client against real servers nobody here wrote: mcp-server-time and mcp-server-git
(PyPI, stdio), and @modelcontextprotocol/server-everything (npm) over stdio, through npx, and
over Streamable HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psutil
import pytest

from localwork.errors import McpServerCrashed
from localwork.tools.mcp.config import HttpServer
from localwork.tools.mcp.connection import Progress
from localwork.tools.mcp.results import (
    ImageContent,
    OmittedContent,
    ResourceLink,
    TextContent,
)
from tests.mcp.conftest import MakeManager
from tests.support.mcp_servers import (
    EverythingOverHttp,
    everything_over_npx,
    everything_server,
    git_server,
    is_running,
    time_server,
    wait_until,
)


def test_mcp_server_time_lists_its_tools_and_tells_the_time(make_manager: MakeManager):
    servers = make_manager({"time": time_server()})
    tools = {tool.name: tool for tool in servers.list_tools("time")}
    assert set(tools) == {"get_current_time", "convert_time"}
    current = tools["get_current_time"]
    assert current.server == "time" and current.description
    assert "timezone" in current.input_schema["properties"]
    assert current.annotations.is_read_only

    result = servers.call_tool("time", "get_current_time", {"timezone": "UTC"})
    assert not result.is_error
    assert json.loads(result.text())["timezone"] == "UTC"
    assert result.structured["timezone"] == "UTC"
    assert servers.state("time").status == "ready" and servers.state("time").tool_count == 2


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    folder = tmp_path / "repo"
    folder.mkdir()
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    (folder / "notes.txt").write_text("hello\n")
    return folder


def test_mcp_server_git_says_which_tools_only_read(make_manager: MakeManager, repository: Path):
    servers = make_manager({"git": git_server(repository)})
    tools = {tool.name: tool.annotations for tool in servers.list_tools("git")}
    assert tools["git_status"].is_read_only and not tools["git_status"].may_destroy
    assert tools["git_log"].is_read_only
    assert not tools["git_reset"].is_read_only and tools["git_reset"].may_destroy
    assert not tools["git_commit"].is_read_only and not tools["git_commit"].may_destroy

    status = servers.call_tool("git", "git_status", {"repo_path": str(repository)})
    assert not status.is_error and "notes.txt" in status.text()
    files = {"repo_path": str(repository), "files": ["notes.txt"]}
    assert not servers.call_tool("git", "git_add", files).is_error
    staged = servers.call_tool("git", "git_diff_staged", {"repo_path": str(repository)})
    assert "+hello" in staged.text()


def test_a_tool_s_own_failure_comes_back_as_the_server_s_error(
    make_manager: MakeManager, repository: Path, tmp_path: Path
):
    servers = make_manager({"git": git_server(repository)})
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    result = servers.call_tool("git", "git_status", {"repo_path": str(elsewhere)})
    assert result.is_error and result.text()


def test_server_everything_over_stdio_echoes_and_adds(make_manager: MakeManager):
    servers = make_manager({"everything": everything_server()})
    names = {tool.name for tool in servers.list_tools("everything")}
    assert {"echo", "get-sum", "trigger-long-running-operation"} <= names
    echoed = servers.call_tool("everything", "echo", {"message": "hi there"})
    assert echoed.text() == "Echo: hi there"
    assert "5" in servers.call_tool("everything", "get-sum", {"a": 2, "b": 3}).text()


def test_a_long_operation_reports_its_progress(make_manager: MakeManager):
    servers = make_manager({"everything": everything_server()})
    heard: list[Progress] = []
    result = servers.call_tool(
        "everything",
        "trigger-long-running-operation",
        {"duration": 1, "steps": 4},
        on_progress=heard.append,
    )
    assert "completed" in result.text()
    assert [(p.progress, p.total) for p in heard] == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_an_annotated_message_keeps_its_annotations_and_its_image(make_manager: MakeManager):
    servers = make_manager({"everything": everything_server()})
    result = servers.call_tool(
        "everything", "get-annotated-message", {"messageType": "error", "includeImage": True}
    )
    text, image = result.content
    assert isinstance(text, TextContent) and text.text.startswith("Error")
    assert text.priority == 1.0 and text.audience == ("user", "assistant")
    assert isinstance(image, ImageContent) and image.mime_type == "image/png"
    assert image.audience == ("user",) and 0 < image.size < 100_000


def test_results_come_typed_links_structured_content_and_capped_images(make_manager: MakeManager):
    servers = make_manager({"everything": everything_server()}, max_binary_bytes=100)
    links = servers.call_tool("everything", "get-resource-links", {"count": 2})
    assert [type(part) for part in links.content] == [TextContent, ResourceLink, ResourceLink]
    uris = [part.uri for part in links.content if isinstance(part, ResourceLink)]
    assert all(uri.startswith("demo://resource/") for uri in uris)

    weather = servers.call_tool("everything", "get-structured-content", {"location": "New York"})
    assert set(weather.structured) >= {"temperature", "conditions", "humidity"}

    tiny = servers.call_tool("everything", "get-tiny-image", {})
    left_out = [part for part in tiny.content if isinstance(part, OmittedContent)]
    assert len(left_out) == 1 and left_out[0].kind == "image" and left_out[0].size > 100
    assert "limit" in left_out[0].reason


def test_npx_runs_the_server_in_its_process_group_and_closing_stops_all_of_it(
    make_manager: MakeManager,
):
    servers = make_manager({"everything": everything_over_npx()})
    assert servers.call_tool("everything", "echo", {"message": "via npx"}).text() == "Echo: via npx"
    launchers = _launchers()
    family = [process for launcher in launchers for process in launcher.children(recursive=True)]
    assert any("node" in " ".join(process.cmdline()) for process in family)

    servers.close()
    pids = [process.pid for process in [*launchers, *family]]
    wait_until(lambda: not any(is_running(pid) for pid in pids), 15, "npx and node have exited")


def test_server_everything_over_streamable_http(make_manager: MakeManager):
    with EverythingOverHttp() as http:
        servers = make_manager({"everything": HttpServer(url=http.url)})
        assert servers.start("everything").status == "ready"
        assert servers.call_tool("everything", "echo", {"message": "over HTTP"}).text() == (
            "Echo: over HTTP"
        )
        heard: list[Progress] = []
        servers.call_tool(
            "everything",
            "trigger-long-running-operation",
            {"duration": 0.4, "steps": 2},
            on_progress=heard.append,
        )
        assert [p.progress for p in heard] == [1, 2]


def test_an_http_server_that_goes_away_is_reported_and_reconnected(make_manager: MakeManager):
    with EverythingOverHttp() as http:
        servers = make_manager({"everything": HttpServer(url=http.url, timeout=10)})
        servers.start("everything")
        http.stop()
        with pytest.raises(McpServerCrashed):
            servers.call_tool("everything", "echo", {"message": "anyone?"})
        assert servers.state("everything").status == "failed"

        http.start()
        assert servers.call_tool("everything", "echo", {"message": "back"}).text() == "Echo: back"


def _launchers() -> list[psutil.Process]:
    """This test process's MCP launchers: the servers' process group leaders."""
    return [
        child
        for child in psutil.Process().children()
        if any(part.endswith("launcher.py") for part in child.cmdline())
    ]
