"""``localwork-hero mcp add | list | tools | remove``: the MCP servers of the Settings pane.

    localwork-hero mcp add NAME [--env K=V]… [--timeout S] -- CMD [ARGS…]   (a local server)
    localwork-hero mcp add NAME --url URL [--header K:V]… [--timeout S]     (Streamable HTTP)
    localwork-hero mcp list          one line per server: name, state, command or URL
    localwork-hero mcp tools NAME    one line per tool: name, description
    localwork-hero mcp remove NAME

The same ``mcp.json`` the app reads (``tools/mcp/store.py``). ``list`` starts each server that
is on (within its timeout) to say how it is, and stops them all after. Exit codes, as
``servers``: 0 on success, 1 when the operation failed (no server of that name, a server that
does not start), 2 for bad usage (a bad name, a name taken, a malformed option).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from localwork.cli.options import add_data_dir_option

if TYPE_CHECKING:  # the parser is built on every start (even the engine worker's): stay light
    from localwork.tools.mcp.service import McpService


def add_parser(commands: argparse._SubParsersAction) -> None:
    mcp = commands.add_parser(
        "mcp",
        help="add, list or remove MCP servers whose tools the assistant can use",
        description="Manage the MCP servers of Settings (kept in mcp.json, in the mcpServers "
        "form Claude Desktop writes). Exit 0 on success, 1 when the operation failed (no "
        "server of that name, a server that does not start), 2 for bad usage.",
    )
    actions = mcp.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="save a server: a command after --, or --url",
        usage="localwork-hero mcp add NAME [--env K=V]... [--timeout S] -- CMD [ARGS...]\n"
        "       localwork-hero mcp add NAME --url URL [--header K:V]... [--timeout S]",
        description="Save an MCP server: a local one, the command (and its arguments) after "
        "'--', e.g. 'localwork-hero mcp add time -- uvx mcp-server-time'; or a remote one "
        "over Streamable HTTP with --url. Options go before '--'. Exit 0 once saved, 2 for a "
        "bad name, a name already taken or a malformed option.",
    )
    add.add_argument("name", help="what to call it: letters, digits, '.', '_', '-' (up to 64)")
    # What follows '--' is the server's command line, whole (cli/main.py cuts it off first:
    # argparse would take its options for ours).
    add.set_defaults(server_command=[])
    add.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="K=V",
        help="an environment variable for the server; repeatable",
    )
    add.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="seconds to wait for it to start and for each call (default 30)",
    )
    add.add_argument("--url", help="the server's Streamable HTTP address, instead of a command")
    add.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="K:V",
        help="an HTTP header for --url (e.g. 'Authorization: Bearer …'); repeatable",
    )
    actions.add_parser(
        "list",
        help="each server with its state and its command or URL (starts them to tell)",
        description="One line per server, tab-separated: its name, its state (ready (N "
        "tools), failed: the reason, or off) and its command or URL. Each server that is on "
        "is started, within its timeout, and stopped after. Exit 0.",
    )
    tools = actions.add_parser(
        "tools",
        help="the tools a server offers",
        description="One line per tool, tab-separated: its name and description. Starts the "
        "server, and stops it after. Exit 0, 1 when there is no server of that name or it "
        "does not start.",
    )
    tools.add_argument("name", help="the server's name")
    remove = actions.add_parser(
        "remove",
        help="forget a server",
        description="Forget a server. Exit 0 when removed, 1 when there is no server of that name.",
    )
    remove.add_argument("name", help="the server's name")
    for action in actions.choices.values():
        add_data_dir_option(action)


def run(args: argparse.Namespace) -> int:
    from localwork.errors import LocalWorkError, NotFound
    from localwork.infra.logs import open_data_dir
    from localwork.tools.mcp.service import McpService
    from localwork.tools.mcp.store import McpStore

    command = f"localwork-hero mcp {args.action}"
    paths = open_data_dir(args.data_dir)
    store = McpStore(paths.mcp_file)
    if store.notice:
        print(f"{command}: {store.notice}", file=sys.stderr)
    service = McpService(store)
    try:
        if args.action == "add":
            return _add(service, command, args)
        if args.action == "list":
            return _list(service)
        if args.action == "tools":
            return _tools(service, args.name)
        service.remove(args.name)
        print(f"removed {args.name}")
        return 0
    except NotFound as error:
        print(f"{command}: {error.message} See 'localwork-hero mcp list'.", file=sys.stderr)
        return 1
    except LocalWorkError as error:
        print(f"{command}: {error.message}", file=sys.stderr)
        return 1
    finally:
        service.close()


def _pairs(values: list[str], separator: str, what: str) -> dict[str, str]:
    """``K=V`` (or ``K:V``) options as a mapping.

    Raises:
        ValueError: one has no separator, or no key.
    """
    pairs = {}
    for value in values:
        key, found, rest = value.partition(separator)
        if not found or not key.strip():
            raise ValueError(f"{what} {value!r} is not {what[2:].upper()}{separator}VALUE")
        pairs[key.strip()] = rest.strip() if separator == ":" else rest
    return pairs


def _add(service: McpService, command: str, args: argparse.Namespace) -> int:
    from localwork.errors import InvalidRequest
    from localwork.tools.mcp.config import DEFAULT_TIMEOUT_SECONDS
    from localwork.tools.mcp.service import command_line

    usage = None
    if args.url and args.server_command:
        usage = "give either a command after '--' or --url, not both"
    elif not args.url and not args.server_command:
        usage = "give the server's command after '--' (e.g. -- uvx mcp-server-time), or --url"
    elif args.url and args.env:
        usage = "--env is for a local server's command; a --url server takes --header"
    elif args.server_command and args.header:
        usage = "--header is for a --url server; a local server takes --env"
    if usage:
        print(f"{command}: {usage}", file=sys.stderr)
        return 2
    timeout = args.timeout if args.timeout is not None else DEFAULT_TIMEOUT_SECONDS
    try:
        if args.url:
            headers = _pairs(args.header, ":", "--header")
            saved = service.add_http(args.name, args.url, headers=headers, timeout=timeout)
        else:
            env = _pairs(args.env, "=", "--env")
            cmd, *rest = args.server_command
            saved = service.add_stdio(args.name, cmd, rest, env=env, timeout=timeout)
    except ValueError as error:
        print(f"{command}: {error}", file=sys.stderr)
        return 2
    except InvalidRequest as error:
        print(f"{command}: {error.message}", file=sys.stderr)
        return 2
    where = command_line(service.configs()[saved["name"]])
    print(f"saved {saved['name']} ({where}); see 'localwork-hero mcp list' for its state")
    return 0


def _list(service: McpService) -> int:
    from localwork.tools.mcp.service import command_line

    servers = service.overview(start=True)
    if not servers:
        print(
            "no MCP servers yet: add one with 'localwork-hero mcp add NAME -- CMD [ARGS...]' "
            "(e.g. localwork-hero mcp add time -- uvx mcp-server-time)"
        )
        return 0
    configs = service.configs()
    for server in servers:
        print(f"{server['name']}\t{server['state_text']}\t{command_line(configs[server['name']])}")
    return 0


def _tools(service: McpService, name: str) -> int:
    for tool in service.tools(name):
        description = " ".join(tool.description.split())
        print(f"{tool.name}\t{description}" if description else tool.name)
    return 0
