"""The ``localwork-hero`` command."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from localwork import APP_NAME, __version__
from localwork.paths import DATA_DIR_ENV
from localwork.vocabulary import TOOL_MODES

_WORKER_FLAG = "--engine-worker"
DATA_DIR_HELP = f"keep settings, models, conversations and logs in DIR (or set {DATA_DIR_ENV})"


class _Parser(argparse.ArgumentParser):
    """A parser whose epilog may be built only when help is shown: the parser is built on
    every start (even the engine worker's), so what is costly to import waits until then."""

    def __init__(self, *args: Any, epilog_from: Callable[[], str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._epilog_from = epilog_from

    def format_help(self) -> str:
        if self._epilog_from is not None:
            self.epilog = self._epilog_from()
        return super().format_help()


def _tools_epilog() -> str:
    import textwrap

    from localwork.tools.files import FILE_TOOLS

    width = max(len(name) for name in FILE_TOOLS)
    lines = [
        textwrap.fill(
            tool.description + (" Changes files: needs --yes." if tool.changes_files else ""),
            width=79,
            initial_indent=f"  {name:<{width}}  ",
            subsequent_indent=" " * (width + 4),
        )
        for name, tool in FILE_TOOLS.items()
    ]
    return "tools:\n" + "\n".join(lines)


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` after a sub-command too (the top-level one sets the default)."""
    parser.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=DATA_DIR_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="localwork-hero",
        description=f"{APP_NAME}: a private assistant running open models on this computer.",
    )
    parser.add_argument("--version", action="version", version=f"localwork-hero {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help=DATA_DIR_HELP,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--serve",
        action="store_true",
        help="serve the app to a browser on 127.0.0.1 instead of opening a window; "
        "prints the address to open as the first line",
    )
    mode.add_argument(
        "--self-test",
        action="store_true",
        help="open the window, send one message to the model, exit 0 when the reply shows",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port for --serve (default: a random free port)"
    )
    parser.add_argument(_WORKER_FLAG, action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    tool = commands.add_parser(
        "tool",
        help="run one file tool call exactly as the assistant would, and print its JSON result",
        description="Run one tool call through the same sandbox, approval and audit path the "
        "assistant uses. Exit 0 when the tool succeeded, 1 when it returned an error, 2 for "
        "bad usage.",
        epilog_from=_tools_epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tool.add_argument("name", help="the tool (listed below)")
    tool.add_argument("arguments", help='its arguments as a JSON object, e.g. \'{"path": "."}\'')
    _add_grant_option(tool, "a folder the tool may use")
    tool.add_argument("--yes", action="store_true", help="approve a call that changes files")
    add_data_dir_option(tool)
    ask = commands.add_parser(
        "ask",
        help="ask the assistant one thing and print its streamed answer, tool calls included",
        description="Run one turn of the assistant with the app's own tool loop. The answer "
        "streams to stdout; each tool call and its result is printed as a line. Exit 0 when "
        "the reply was written, 1 when it failed, 2 for bad usage.",
    )
    ask.add_argument("prompt", help="what to ask")
    ask.add_argument(
        "--model", metavar="NAME", help="an installed model (default: the selected one)"
    )
    _add_grant_option(ask, "a folder the assistant may use")
    ask.add_argument(
        "--tools",
        choices=TOOL_MODES,
        default="auto",
        help="tool use: off, auto (the model decides; the default) or required",
    )
    ask.add_argument("--yes", action="store_true", help="approve every call that changes files")
    add_data_dir_option(ask)
    from localwork.activity import add_parsers as add_activity_parsers
    from localwork.models.commands import add_parser as add_models_parser

    add_models_parser(commands)
    add_activity_parsers(commands)
    return parser


def _add_grant_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--grant",
        action="append",
        default=[],
        metavar="DIR[:ro|:rw]",
        help=f"{what} (read-only unless :rw); repeatable",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.engine_worker:  # a bundled app re-runs itself as the engine worker
        from localwork.engine.worker import main as worker_main

        return worker_main()
    if args.command == "tool":
        return _run_tool(args)
    if args.command == "ask":
        return _run_ask(args)
    if args.command in ("activity", "undo"):
        from localwork.activity import run_activity, run_undo

        return run_activity(args) if args.command == "activity" else run_undo(args)
    if args.command == "models":
        from localwork.models.commands import run as run_models

        return run_models(args)
    if args.port is not None and not args.serve:
        build_parser().error("--port needs --serve")
    if args.port is not None and not 0 <= args.port <= 65535:
        build_parser().error("--port must be between 0 and 65535")

    from localwork.app import App
    from localwork.logs import open_data_dir

    paths = open_data_dir(args.data_dir)
    single = None
    if not (args.serve or args.self_test):
        from localwork.single_instance import SingleInstance

        single = SingleInstance(paths.data_dir)
        if single.ask_running_instance_to_focus():
            print(f"{APP_NAME} is already running; its window was brought to the front.")
            return 0
    app = App(paths)
    try:
        app.start()
        if args.serve:
            return _serve(app, args.port or 0)
        from localwork.desktop import run_window

        return run_window(app, self_test=args.self_test, single_instance=single)
    finally:
        if single is not None:
            single.close()
        app.close()


def _run_tool(args: argparse.Namespace) -> int:
    import json

    from localwork.errors import InvalidRequest
    from localwork.logs import open_data_dir
    from localwork.sandbox.fs import Sandbox
    from localwork.sandbox.owned import checked_grants
    from localwork.tools.audit import AuditLog
    from localwork.tools.runner import ToolRunner

    paths = open_data_dir(args.data_dir)
    try:
        arguments = json.loads(args.arguments)
        grants = checked_grants(args.grant, paths)
    except json.JSONDecodeError as error:
        print(f"localwork-hero tool: the arguments are not JSON: {error}", file=sys.stderr)
        return 2
    except InvalidRequest as error:
        print(f"localwork-hero tool: {error.message}", file=sys.stderr)
        return 2
    audit = AuditLog(paths.audit_file)
    try:
        runner = ToolRunner(Sandbox(grants, paths.owned_roots()), audit, paths.backups_dir)
        if args.name not in runner.tools:
            known = ", ".join(sorted(runner.tools))
            print(
                f"localwork-hero tool: unknown tool {args.name!r} (tools: {known})", file=sys.stderr
            )
            return 2
        result = runner.run(args.name, arguments, approval="approved" if args.yes else "ask")
    finally:
        audit.close()
    print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    return 0 if result.ok else 1


def _run_ask(args: argparse.Namespace) -> int:
    from localwork.ask import ask
    from localwork.logs import open_data_dir

    paths = open_data_dir(args.data_dir)
    return ask(
        paths, args.prompt, model=args.model, grants=args.grant, tools=args.tools, approve=args.yes
    )


def _serve(app: object, port: int) -> int:
    from localwork.bridge import Bridge
    from localwork.resources import frontend_dir
    from localwork.server import BridgeServer

    try:
        server = BridgeServer(Bridge(app), frontend_dir(), port)  # type: ignore[arg-type]
    except OSError as error:
        print(f"localwork-hero: cannot listen on 127.0.0.1:{port}: {error}", file=sys.stderr)
        return 1

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(server.address, flush=True)
    print("Open that address in a browser; press Ctrl+C to stop.", file=sys.stderr, flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
