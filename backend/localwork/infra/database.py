"""Opening the app's SQLite files the same way everywhere."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from localwork.infra.paths import make_private


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """A connection shared across threads (callers hold a lock), WAL, rows as mappings.

    Autocommit mode: each statement commits unless the caller opens a transaction itself.
    The file is private (SQLite gives its -wal and -shm files the database file's mode).
    """
    make_private(path)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            make_private(companion)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.executescript(schema)
    return connection
