"""The user's MCP servers in the app (``mcp.json`` → ``McpService`` → one tool source per
server that is on), on the in-process fake engine with the REAL mcp-server-time: a call's
result reaches the reply, each tool's policy (off, allow, ask; readOnlyHint pre-selecting
allow), "allow for this chat" kept per source and tool, audit rows without undo, the tool
list's budget, and no server left running after ``app.close()``."""

from __future__ import annotations

from typing import Any

import psutil
import pytest

from localwork.chat.approvals import ApprovalGate
from localwork.chat.tool_budget import tool_list_cost
from localwork.infra.paths import AppPaths
from localwork.tools.approval import UserAnswer
from localwork.tools.audit import AuditLog
from localwork.tools.base import Tool
from localwork.tools.mcp.config import StdioServer
from localwork.tools.mcp.store import McpEntry, McpStore, StartWhen
from localwork.tools.runner import ToolRunner
from tests.agent.conftest import guided
from tests.support.mcp_servers import is_running, python_server, wait_until
from tests.support.tool_sources import NotesSource


def save_time_server(
    paths: AppPaths, policy: dict[str, Any] | None = None, start: StartWhen = "on_use"
) -> None:
    server = StdioServer(command=python_server("mcp-server-time"))
    McpStore(paths.mcp_file).replace({"time": McpEntry(server, start, policy or {})})


def time_processes() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if any("mcp-server-time" in part for part in child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_call_to_a_real_server_reaches_the_reply_without_asking_when_read_only(fake_app, paths):
    save_time_server(paths)  # no choice made: its readOnlyHint pre-selects "allow"
    s = fake_app([*guided("get_current_time", timezone="UTC"), {"text": "It is late."}], None)
    message = s.done(s.send("What time is it in UTC?")["job_id"], timeout=60)["message"]

    (call,) = message["meta"]["tool_calls"]
    assert call["tool"] == "get_current_time" and call["status"] == "done"
    assert '"timezone": "UTC"' in call["result"]["text"]
    # The card gets the server's content as it came; the model only the result.
    shown = call["shown"]
    assert shown["runs_on"] == "the MCP server time" and shown["is_error"] is False
    assert [part["type"] for part in shown["content"]] == ["text"]
    assert shown["content"][0]["text"] == call["result"]["text"]
    assert '"runs_on"' not in s.requests()[-1]["prompt"]
    assert message["content"] == "It is late."
    assert "day_of_week" in s.requests()[-1]["prompt"]  # the result went back to the model
    (entry,) = s.app.folders.activity(10, s.conversation_id)
    assert entry["decision"] == "auto" and entry["no_undo"] is True
    assert entry["runs_on"] == "the MCP server time"


def test_off_is_not_offered_and_ask_waits_for_the_user(fake_app, paths):
    save_time_server(paths, {"convert_time": "off", "get_current_time": "ask"})
    s = fake_app(
        [
            *guided("get_current_time", timezone="UTC"),
            {"text": "Done."},
            *guided("get_current_time", timezone="Europe/Paris"),
            {"text": "Done again."},
        ],
        None,
    )
    job = s.send("What time is it?")["job_id"]
    waiting = s.events.wait_for("tool_call", 60, job_id=job)["call"]
    assert waiting["status"] == "waiting"
    first_prompt = s.requests()[0]["prompt"]
    assert "get_current_time" in first_prompt and "convert_time" not in first_prompt

    s.app.chat.decide(s.conversation_id, waiting["id"], UserAnswer("conversation"))
    assert s.done(job, timeout=60)["message"]["meta"]["tool_calls"][0]["status"] == "done"
    # Allowed for this chat: the next call runs without a card.
    again = s.done(s.send("And in Paris?")["job_id"], timeout=60)["message"]
    assert [c["status"] for c in again["meta"]["tool_calls"]] == ["done"]
    decisions = [entry["decision"] for entry in s.app.folders.activity(10, s.conversation_id)]
    assert decisions == ["approved", "approved"]


def test_without_approval_an_asking_tool_is_refused_in_mcp_words(fake_app, paths):
    save_time_server(paths, {"get_current_time": "ask"})
    s = fake_app([*guided("get_current_time", timezone="UTC"), {"text": "No."}], None)
    s.app.chat.approvals.policy = "refuse"  # what `ask` without --yes runs with
    message = s.done(s.send("Time?")["job_id"], timeout=60)["message"]
    error = message["meta"]["tool_calls"][0]["error"]
    assert error == ("approval required: a call to the MCP server time needs the user's approval")
    assert "files" not in error


class Board(NotesSource):
    """A second source with a ``stamp`` tool of its own."""

    name = "board"


def test_allow_for_this_chat_is_kept_per_source_and_tool(paths):
    audit = AuditLog(paths.audit_file)
    try:
        before = ToolRunner([NotesSource(), Board()], audit)
        after = ToolRunner([Board(), NotesSource()], audit)  # the same name, another source
    finally:
        audit.close()
    assert before.approval_key("stamp") != after.approval_key("stamp")
    assert before.approval_key("board_stamp") == after.approval_key("stamp")
    gate = ApprovalGate()
    gate._allowed["c"] = {before.approval_key("stamp"): frozenset()}
    assert gate.is_allowed("c", before.approval_key("stamp"), frozenset())
    assert not gate.is_allowed("c", after.approval_key("stamp"), frozenset())


_BIG_SCHEMA = {
    "type": "object",
    "properties": {
        f"option_{n}": {"type": "string", "description": "a long description of this option " * 3}
        for n in range(8)
    },
}


class ManyBigTools:
    name = "big"

    def tools(self) -> list[Tool]:
        return [
            Tool(
                f"tool_{n}", "A tool with a long description. " * 10, None, input_schema=_BIG_SCHEMA
            )
            for n in range(40)
        ]

    def available(self) -> bool:
        return True

    def preview(self, tool: Tool, arguments: Any) -> dict[str, Any]:
        return {"summary": "", "diff": None}

    def run(self, tool: Tool, arguments: Any, on_progress: Any = None) -> Any:
        raise AssertionError("never called")


def test_a_tool_list_that_leaves_no_room_refuses_to_start_the_reply(fake_app):
    s = fake_app([{"text": "never written"}], None, tool_sources=(ManyBigTools(),), max_tokens=256)
    s.app.settings.update({"context": {"n_ctx": 2048}})
    s.app.runtime.load_and_wait(None, timeout=60)
    offered = s.app.folders.tool_runner().offered
    cost = tool_list_cost(s.app.engine, offered, exact=True)
    assert cost["tokens"] > 2048 and cost["exact"] is True

    error = s.events.wait_for("reply_failed", 30, job_id=s.send("Hello")["job_id"])["error"]

    assert error["code"] == "tool_list_too_large" and error["retry"] is False
    assert f"take {cost['tokens']:,} tokens" in error["message"]
    assert "context of 2,048 tokens" in error["message"]
    assert "Turn off MCP servers or tools" in error["advice"]
    assert s.requests() == []  # nothing was generated


def test_a_tool_list_that_fits_starts_the_reply(fake_app):
    s = fake_app([{"text": "Hi."}], None, tool_sources=(NotesSource(),))
    assert s.done(s.send("Hello")["job_id"])["message"]["content"] == "Hi."


@pytest.mark.parametrize("start", ["at_launch", "on_use"])
def test_no_server_process_outlives_app_close(fake_app, paths, start):
    save_time_server(paths, start=start)
    s = fake_app([*guided("get_current_time", timezone="UTC"), {"text": "Ok."}], None)
    if start == "at_launch":  # started in the background by app.start()
        wait_until(lambda: s.app.mcp.manager.state("time").status == "ready", 60, "started")
    else:
        s.done(s.send("Time?")["job_id"], timeout=60)
    running = time_processes()
    assert running, "the server should be running"

    s.app.close()

    for process in running:
        wait_until(lambda p=process: not is_running(p.pid), 10, f"{process.pid} stopped")


def test_a_long_calls_progress_shows_on_its_card_as_it_comes(fake_app, paths):
    from tests.support.mcp_servers import everything_server

    policy = {"trigger-long-running-operation": "allow"}
    entry = McpEntry(everything_server(), "on_use", policy)
    McpStore(paths.mcp_file).replace({"everything": entry})
    call = guided("trigger-long-running-operation", duration=1, steps=3)
    s = fake_app([*call, {"text": "Finished."}], None)
    job = s.send("Run the long operation.")["job_id"]
    message = s.done(job, timeout=60)["message"]

    assert message["meta"]["tool_calls"][0]["status"] == "done"
    progress = [
        e["call"]["progress"]
        for e in s.events.seen
        if e["type"] == "tool_call" and e["call"]["status"] == "running" and e["call"]["progress"]
    ]
    assert progress and progress[-1].startswith("3 of 3")


def test_git_status_runs_on_its_read_only_hint_and_git_reset_waits_for_approval(
    fake_app, paths, tmp_path
):
    import subprocess

    from tests.support.mcp_servers import git_server

    repository = tmp_path / "repo"
    repository.mkdir()
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    (repository / "notes.txt").write_text("hello")
    entry = McpEntry(git_server(repository), "on_use", {})  # no choices: the hints decide
    McpStore(paths.mcp_file).replace({"git": entry})
    s = fake_app(
        [
            *guided("git_status", repo_path=str(repository)),
            {"text": "Clean enough."},
            *guided("git_reset", repo_path=str(repository)),
            {"text": "Reset."},
        ],
        None,
    )
    status = s.done(s.send("What is the status?")["job_id"], timeout=60)["message"]
    assert [c["status"] for c in status["meta"]["tool_calls"]] == ["done"]  # nobody was asked

    job = s.send("Reset the repository.")["job_id"]
    call = s.events.wait_for("tool_call", 60, job_id=job)["call"]
    while call["status"] != "waiting":
        call = s.events.wait_for("tool_call", 60, job_id=job)["call"]
    assert call["tool"] == "git_reset"  # destructive, not read-only: the user decides
    s.app.chat.decide(s.conversation_id, call["id"], UserAnswer("deny", "not now"))
    reset = s.done(job, timeout=60)["message"]
    assert reset["meta"]["tool_calls"][0]["status"] == "denied"
