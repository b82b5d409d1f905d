"""The ``localwork-hero`` command: the app (window or ``--serve``) and its sub-commands."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import signal
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from localwork import APP_NAME, __version__
from localwork.cli import activity, ask, mcp, models, servers, tool
from localwork.cli.options import DATA_DIR_HELP, Parser

if TYPE_CHECKING:
    from localwork.app import App

_WORKER_FLAG = "--engine-worker"
_MCP_LAUNCHER_FLAG = "--mcp-launcher"  # before any other argument: the rest are a server's
# Each sub-command is a module with add_parser(commands) and run(args) -> exit code.
_SUBCOMMANDS: dict[str, ModuleType] = {
    "tool": tool,
    "ask": ask,
    "models": models,
    "servers": servers,
    "mcp": mcp,
    "activity": activity,
    "undo": activity,
}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    mode.add_argument(
        "--api",
        action="store_true",
        help="serve the local OpenAI- and Anthropic-compatible API without a window; "
        "prints its base URL (http://127.0.0.1:PORT/v1) as the first line",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port for --serve (default: a random free port)"
    )
    parser.add_argument(
        "--api-port",
        type=int,
        default=None,
        metavar="N",
        help="port for --api (default: the saved one, 7373; 0 picks a free port)",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="the API key for this run (default: the saved one, made on first use)",
    )
    parser.add_argument(_WORKER_FLAG, action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in dict.fromkeys(_SUBCOMMANDS.values()):
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [_MCP_LAUNCHER_FLAG]:  # a bundled app re-runs itself as an MCP launcher
        from localwork.tools.mcp.launcher import main as launcher_main

        return launcher_main(argv[1:])
    argv, trailing = _command_line_after_dashes(argv)
    args = build_parser().parse_args(argv)
    if trailing is not None:
        args.server_command = trailing
    if args.engine_worker:  # a bundled app re-runs itself as the engine worker
        from localwork.engine.local.worker import main as worker_main

        return worker_main()
    if args.command is not None:
        return _SUBCOMMANDS[args.command].run(args)
    if args.port is not None and not args.serve:
        build_parser().error("--port needs --serve")
    if args.port is not None and not 0 <= args.port <= 65535:
        build_parser().error("--port must be between 0 and 65535")
    if (args.api_port is not None or args.api_key is not None) and not args.api:
        build_parser().error("--api-port and --api-key need --api")
    if args.api_port is not None and not 0 <= args.api_port <= 65535:
        build_parser().error("--api-port must be between 0 and 65535")
    if args.api_key is not None and not 16 <= len(args.api_key.strip()) <= 200:
        build_parser().error("--api-key must be 16 to 200 characters")
    if args.api:
        return _run_api(args)
    return _run_app(args)


def _command_line_after_dashes(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """For ``mcp add NAME [OPTIONS] -- CMD [ARGS…]``: the arguments before ``--``, and the
    server's command line after it, untouched (its options are the server's, never ours).
    Every other command keeps ``--`` as argparse reads it."""
    if "--" not in argv:
        return argv, None
    cut = argv.index("--")
    words = [word for word in argv[:cut] if not word.startswith("-")]
    if ("mcp", "add") not in itertools.pairwise(words):
        return argv, None
    return argv[:cut], argv[cut + 1 :]


def _run_api(args: argparse.Namespace) -> int:
    """The local API alone, headless, until Ctrl+C or SIGTERM (then exit 0)."""
    from localwork.app import App
    from localwork.infra.logs import open_data_dir

    app = App(open_data_dir(args.data_dir))

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        app.start(api=False)
        try:
            app.api.start(port=args.api_port, key=args.api_key and args.api_key.strip())
        except OSError as error:
            port = app.settings.current.local_api.port if args.api_port is None else args.api_port
            print(f"localwork-hero: cannot listen on 127.0.0.1:{port}: {error}", file=sys.stderr)
            return 1
        print(app.api.base_url, flush=True)  # the first line stays loopback: others parse it
        for url in app.api.lan_urls():
            print(f"On the local network: {url}", file=sys.stderr, flush=True)
        print("Serving the local API; press Ctrl+C to stop.", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        return 0
    finally:
        app.close()


def _run_app(args: argparse.Namespace) -> int:
    """The app itself: in its window, or served to a browser (``--serve``)."""
    from localwork.app import App, AppOptions
    from localwork.infra.logs import open_data_dir

    paths = open_data_dir(args.data_dir)
    single = None
    if not (args.serve or args.self_test):
        from localwork.transports.single_instance import SingleInstance

        single = SingleInstance(paths.data_dir)
        if single.ask_running_instance_to_focus():
            print(f"{APP_NAME} is already running; its window was brought to the front.")
            return 0
    pickers = None
    if not args.serve:
        from localwork.transports.desktop import WindowPickers

        pickers = WindowPickers()
    app = App(paths, AppOptions(pickers=pickers))
    try:
        app.start()
        if args.serve:
            return _serve(app, args.port or 0)
        from localwork.transports.desktop import run_window

        return run_window(app, self_test=args.self_test, single_instance=single, pickers=pickers)
    finally:
        if single is not None:
            single.close()
        app.close()


def _serve(app: App, port: int) -> int:
    from localwork.transports.bridge import Bridge
    from localwork.transports.resources import frontend_dir
    from localwork.transports.server import BridgeServer

    try:
        server = BridgeServer(Bridge(app), frontend_dir(), port)
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
