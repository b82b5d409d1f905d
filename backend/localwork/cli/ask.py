"""``localwork-hero ask``: one turn of the assistant from a script, with the app's own loop.

The answer streams to stdout; each tool call and its result is a readable line between the
answer's parts. Exit 0 when the reply was written, 1 when it failed, 2 for bad usage.

``--model`` names an installed model, or a saved server's model as ``SERVER/MODEL``; either is
used for this run only (``AppOptions.session_model``), the saved selection stays. A server's
model gets shorter timeouts than the window's (``ask_timeouts``): when the server drops,
stalls or fails mid-reply, ``ask`` says why and exits 1 within 30 seconds, with what was
already written left on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from localwork.cli.options import add_data_dir_option, add_grant_option
from localwork.errors import LocalWorkError
from localwork.vocabulary import TOOL_MODES

if TYPE_CHECKING:  # the parser is built on every start (even the engine worker's): stay light
    from localwork.app import App
    from localwork.engine.remote.connection import Timeouts
    from localwork.infra.paths import AppPaths
    from localwork.models.registry import ModelRegistry
    from localwork.settings import AppSettings, FolderGrant

_SHOWN_RESULT_CHARS = 400
_FINISHED = ("done", "failed", "denied", "stopped")


class UsageError(Exception):
    pass


def add_parser(commands: argparse._SubParsersAction) -> None:
    ask = commands.add_parser(
        "ask",
        help="ask the assistant one thing and print its streamed answer, tool calls included",
        description="Run one turn of the assistant with the app's own tool loop. The answer "
        "streams to stdout; each tool call and its result is printed as a line. Exit 0 when "
        "the reply was written, 1 when it failed (a server that stops answering fails the "
        "reply within 30 seconds; what it wrote stays on stdout), 2 for bad usage.",
    )
    ask.add_argument("prompt", help="what to ask")
    ask.add_argument(
        "--model",
        metavar="MODEL",
        help="for this run only: an installed model (its id, name or file name) or a saved "
        "server's model as SERVER/MODEL, e.g. gpu-box/Qwen3-8B (see 'localwork-hero servers "
        "list'); default: the selected one",
    )
    add_grant_option(ask, "a folder the assistant may use")
    ask.add_argument(
        "--tools",
        choices=TOOL_MODES,
        default="auto",
        help="tool use: off, auto (the model decides; the default) or required",
    )
    ask.add_argument(
        "--yes",
        action="store_true",
        help="approve every call that changes files, and every MCP tool call that asks",
    )
    add_data_dir_option(ask)


def run(args: argparse.Namespace) -> int:
    from localwork.infra.logs import open_data_dir

    paths = open_data_dir(args.data_dir)
    return ask(
        paths, args.prompt, model=args.model, grants=args.grant, tools=args.tools, approve=args.yes
    )


def find_model(settings: AppSettings, registry: ModelRegistry, name: str | None) -> str | None:
    """The selection ``--model`` names: a saved server's ``SERVER/MODEL`` (the model need not
    be set up: it gets the defaults), else an installed model by id, name or file name (any
    case). None means the saved selection.

    Raises:
        UsageError: neither a saved server's model nor an installed model.
        InvalidRequest: the server's saved address is no longer accepted.
    """
    from localwork.engine.choice import remote_model

    if name is None:
        return None
    remote = remote_model(settings, name)
    if remote is not None:
        return remote.selection_id
    matches = registry.matching(name, ignore_case=True)
    if matches:
        return matches[0].id
    installed = ", ".join(model.name for model in registry.installed()) or "none"
    servers = ", ".join(server.name for server in settings.servers) or "none"
    raise UsageError(
        f"no installed model is called {name!r}, and it is not a saved server's model "
        f"(SERVER/MODEL) (installed: {installed}; servers: {servers})"
    )


def ask_timeouts() -> Timeouts:
    """How long a server's model may keep silent here: a reply that stalls fails after 25 s
    (the window waits minutes), so that ``ask`` exits well within 30 s."""
    from localwork.engine.remote.connection import Timeouts

    return Timeouts(connect=10.0, read=25.0, write=10.0)


def session_grants(specs: list[str], paths: AppPaths) -> list[FolderGrant]:
    """Raises: LocalWorkError: a folder does not exist, or it is the app's own data."""
    from localwork.tools.sandbox.owned import checked_grants

    return [grant.setting() for grant in checked_grants(specs, paths)]


def check_usage(
    prompt: str, tools: str, folders: list[FolderGrant], *, mcp_servers: bool = False
) -> None:
    """Raises: UsageError: nothing to ask, or tools required without a folder to use or an
    MCP server that is on (``mcp_servers``)."""
    if not prompt.strip():
        raise UsageError("the prompt is empty: say what to ask, e.g. ask 'Summarise notes.txt'")
    if tools == "required" and not folders and not mcp_servers:
        raise UsageError(
            "--tools required needs tools to use: add --grant DIR (or DIR:rw to let the "
            "assistant change files there), or an MCP server ('localwork-hero mcp add')"
        )


def _mcp_servers_on(paths: AppPaths) -> bool:
    """Whether an MCP server is on (the app then offers its tools, asked like file changes:
    ``--yes`` approves the calls of tools whose policy is "ask")."""
    from localwork.tools.mcp.store import McpStore

    if not paths.mcp_file.exists():
        return False
    store = McpStore(paths.mcp_file)
    if store.notice:
        print(f"localwork-hero ask: {store.notice}", file=sys.stderr)
    return any(entry.config.enabled for entry in store.entries().values())


class _Printer:
    """Writes the reply as it streams, with each tool call on lines of its own."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._mid_line = False

    def text(self, piece: str) -> None:
        self._out.write(piece)
        self._out.flush()
        self._mid_line = not piece.endswith("\n")

    def line(self, text: str) -> None:
        if self._mid_line:
            self._out.write("\n")
        self._out.write(text + "\n")
        self._out.flush()
        self._mid_line = False

    def call(self, call: dict[str, Any]) -> None:
        if call["status"] == "running":
            arguments = json.dumps(call["arguments"], ensure_ascii=False)
            self.line(f"[tool] {call['tool']} {arguments}")
        elif call["status"] in _FINISHED:
            detail = call["error"] or json.dumps(call["result"], ensure_ascii=False)
            if len(detail) > _SHOWN_RESULT_CHARS:
                detail = detail[:_SHOWN_RESULT_CHARS] + "…"
            self.line(f"[{call['status']}] {call['tool'] or 'invalid call'}: {detail}")

    def end(self) -> None:
        """End the last line (once: an answer ends with one newline, not a blank line)."""
        if self._mid_line:
            self._out.write("\n")
            self._out.flush()
            self._mid_line = False


def ask(
    paths: AppPaths,
    prompt: str,
    *,
    model: str | None,
    grants: list[str],
    tools: str,
    approve: bool,
    out: TextIO | None = None,  # stdout
) -> int:
    try:
        folders = session_grants(grants, paths)
        check_usage(prompt, tools, folders, mcp_servers=_mcp_servers_on(paths))
    except (LocalWorkError, UsageError) as error:
        print(f"localwork-hero ask: {error}", file=sys.stderr)
        return 2
    from localwork.app import App, AppOptions
    from localwork.models.registry import ModelRegistry
    from localwork.settings import SettingsStore

    try:
        settings = SettingsStore(paths.settings_file).current
        chosen = find_model(settings, ModelRegistry(paths.models_dir), model)
    except UsageError as error:
        print(f"localwork-hero ask: {error}", file=sys.stderr)
        return 2
    except LocalWorkError as error:
        print(f"localwork-hero ask: {error.message}", file=sys.stderr)
        return 2
    # The grants and the model are for this run only (the saved ones are untouched), and
    # nobody is asked.
    options = AppOptions(
        session_grants=folders,
        approval_policy="approve" if approve else "refuse",
        remote_timeouts=ask_timeouts(),
        session_model=chosen,
    )
    app = App(paths, options)
    try:
        app.chat.start()
        app.engine.apply_selection()  # an installed model loads; a server's needs nothing here
        return _one_turn(app, prompt, tools, _Printer(out or sys.stdout))
    except LocalWorkError as error:
        print(f"localwork-hero ask: {error.message}", file=sys.stderr)
        return 1
    finally:
        app.close()


def _one_turn(app: App, prompt: str, tools: str, printer: _Printer) -> int:
    from localwork.conversations.store import title_from_message

    app.engine.ready()
    conversation = app.store.create_conversation(title_from_message(prompt))
    app.store.set_tool_mode(conversation["id"], tools)
    after = app.events.last_seq
    job_id = app.chat.send(conversation["id"], prompt)["job_id"]
    try:
        while True:
            for event in app.events.poll(after, timeout=1.0):
                after = event["seq"]
                if event.get("job_id") != job_id:
                    continue
                if event["type"] == "token":
                    printer.text(event["text"])
                elif event["type"] == "tool_call":
                    printer.call(event["call"])
                elif event["type"] == "reply_done":
                    message = event["message"] or {}
                    if message.get("meta", {}).get("answer_from_results"):
                        printer.line(message["content"])  # replaces what the model wrote
                    notice = message.get("meta", {}).get("notice")
                    if notice:
                        printer.line(f"[note] {notice}")
                    printer.end()
                    return 0
                elif event["type"] == "reply_failed":
                    printer.end()
                    error = event["error"]
                    advice = f" {error['advice']}" if error.get("advice") else ""
                    print(f"localwork-hero ask: {error['message']}{advice}", file=sys.stderr)
                    return 1
    except KeyboardInterrupt:
        app.chat.stop(conversation["id"])
        printer.end()
        return 130
