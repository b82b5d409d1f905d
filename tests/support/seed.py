"""Conversations written straight into a served app's database: scripted replies for the UI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from localwork.conversations.export import FORMAT
from localwork.conversations.store import ConversationStore
from localwork.infra.paths import AppPaths

LINK_RECORDER = """#!/bin/sh
# Stands in for the system browser (through BROWSER): records each URL it is asked to open.
printf '%s\\n' "$1" >> "$(dirname "$0")/opened-links.txt"
"""


def seed_conversation(paths: AppPaths, title: str, messages: list[dict[str, Any]]) -> str:
    """Add a conversation beside the running app (SQLite WAL allows it); returns its id."""
    store = ConversationStore(paths.database_file)
    try:
        return store.import_conversation(title, messages)["id"]
    finally:
        store.close()


def export_document(title: str, messages: list[dict[str, Any]]) -> str:
    return json.dumps({"format": FORMAT, "version": 1, "title": title, "messages": messages})


def install_link_recorder(folder: Path) -> tuple[str, Path]:
    """A BROWSER value that records links instead of opening them, and the file it writes."""
    script = folder / "record-link.sh"
    script.write_text(LINK_RECORDER)
    script.chmod(0o755)
    return f"{script} %s", folder / "opened-links.txt"
