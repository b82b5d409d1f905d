"""``localwork-hero tool NAME ARGUMENTS``: one file tool call exactly as the assistant makes it.

The call goes through the same sandbox, approval and audit path the assistant uses, and its
JSON result is printed. Exit 0 when the tool succeeded, 1 when it returned an error, 2 for bad
usage.
"""

from __future__ import annotations

import argparse
import json
import sys

from localwork.cli.options import add_data_dir_option, add_grant_option


def _tools_epilog() -> str:
    import textwrap

    from localwork.tools.files import FILE_TOOLS

    width = max(len(name) for name in FILE_TOOLS)
    lines = [
        textwrap.fill(
            tool.description + (" Changes files: needs --yes." if tool.may_change else ""),
            width=79,
            initial_indent=f"  {name:<{width}}  ",
            subsequent_indent=" " * (width + 4),
        )
        for name, tool in FILE_TOOLS.items()
    ]
    return "tools:\n" + "\n".join(lines)


def add_parser(commands: argparse._SubParsersAction) -> None:
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
    add_grant_option(tool, "a folder the tool may use")
    tool.add_argument("--yes", action="store_true", help="approve a call that changes files")
    add_data_dir_option(tool)


def run(args: argparse.Namespace) -> int:
    from localwork.errors import InvalidRequest
    from localwork.infra.logs import open_data_dir
    from localwork.tools.audit import AuditLog
    from localwork.tools.file_source import FileToolSource
    from localwork.tools.runner import ToolRunner
    from localwork.tools.sandbox.fs import Sandbox
    from localwork.tools.sandbox.owned import checked_grants

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
        files = FileToolSource(Sandbox(grants, paths.owned_roots()), paths.backups_dir)
        runner = ToolRunner([files], audit)
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
