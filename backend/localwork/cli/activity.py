"""``localwork-hero activity`` and ``localwork-hero undo ID``: the Activity pane for scripts.

``activity`` prints one line per change, newest first: ``ID  KIND  PATH  TIME  TOOL``, two
spaces apart. KIND is created, overwritten, edited, moved, deleted or created-folder, and
``undone`` once undone; a move's PATH is ``FROM -> TO``; TIME is ISO 8601 local time. Only
PATH may hold spaces (split off two fields from each end), and characters that are not
printable (a newline, a bidi override) are shown escaped, so a file name cannot fake a line.
``undo`` goes through the same checks as the pane's Undo button. Exit codes: 0 done, 1 refused
(the reason on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

from localwork.cli.options import add_data_dir_option

_DEFAULT_LIMIT = 50
_LARGEST = 2**63 - 1  # SQLite's largest integer
_KIND_WORDS = {"folder": "created-folder", "deleted_folder": "deleted"}


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= value <= _LARGEST:
        raise argparse.ArgumentTypeError(f"must be from 1 to {_LARGEST}: {value}")
    return value


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Two sub-commands: ``activity`` and ``undo``."""
    activity = commands.add_parser(
        "activity",
        help="list the changes file tools made, newest first, as the Activity pane does",
        description="One line per change, newest first: ID  KIND  PATH  TIME  TOOL. KIND is "
        "created, overwritten, edited, moved, deleted or created-folder, or undone once "
        "undone. Exit 0, or 2 for bad usage.",
    )
    activity.add_argument(
        "--limit", type=_positive, default=_DEFAULT_LIMIT, metavar="N", help="at most N lines"
    )
    undo = commands.add_parser(
        "undo",
        help="undo one change by its ID (from 'activity'), as the Activity pane does",
        description="Undo one change, only inside a folder granted with 'Read and change', and "
        "only if the file is still exactly what the change left. Exit 0 when undone, 1 when "
        "refused (the reason on stderr), 2 for bad usage.",
    )
    undo.add_argument("id", type=_positive, metavar="ID", help="the change's ID")
    for parser in (activity, undo):
        add_data_dir_option(parser)


def run(args: argparse.Namespace) -> int:
    return run_undo(args) if args.command == "undo" else run_activity(args)


def run_activity(args: argparse.Namespace) -> int:
    from localwork.infra.logs import open_data_dir
    from localwork.tools.audit import AuditLog

    audit = AuditLog(open_data_dir(args.data_dir).audit_file)
    try:
        for change in audit.recent_changes(args.limit):
            print(activity_line(change))
    finally:
        audit.close()
    return 0


def activity_line(change: dict[str, Any]) -> str:
    if change["undone_at"] is not None:
        kind = "undone"
    elif change["kind"] == "overwritten" and change["tool"] == "edit_file":
        kind = "edited"
    else:
        kind = _KIND_WORDS.get(change["kind"], change["kind"])
    path = _shown(change["path"])
    if change["other_path"]:
        path = f"{path} -> {_shown(change['other_path'])}"
    when = datetime.fromtimestamp(change["created_at"]).astimezone().isoformat(timespec="seconds")
    return "  ".join((str(change["id"]), kind, path, when, change["tool"]))


def _shown(path: str) -> str:
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in path)


def run_undo(args: argparse.Namespace) -> int:
    from localwork.errors import LocalWorkError
    from localwork.infra.logs import open_data_dir
    from localwork.settings import SettingsStore
    from localwork.tools.audit import AuditLog
    from localwork.tools.folders import Folders

    paths = open_data_dir(args.data_dir)
    audit = AuditLog(paths.audit_file)
    folders = Folders(SettingsStore(paths.settings_file), paths, audit)
    try:
        undone = folders.undo(args.id)
    except LocalWorkError as error:
        print(f"localwork-hero undo: {error.message}", file=sys.stderr)
        return 1
    finally:
        folders.close()
        audit.close()
    print(f"undone {undone['undone']}: {undone['kind']} {undone['path']}")
    return 0
