"""Conversations and their messages, kept in SQLite under the data dir."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from localwork.database import open_database
from localwork.errors import InvalidRequest, NotFound

_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content          TEXT NOT NULL,
    meta             TEXT NOT NULL DEFAULT '{}',
    created_at       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""

# Columns added after the first release, created on open when an older file lacks them.
_ADDED_COLUMNS = {
    # How the assistant may use tools here: "off", "auto" (when it decides) or "required".
    "tool_mode": "TEXT NOT NULL DEFAULT 'auto'",
}
TOOL_MODES = ("off", "auto", "required")

DEFAULT_TITLE = "New chat"
TITLE_MAX = 200


def title_from_message(text: str) -> str:
    first_line = " ".join(text.split())
    return (first_line[:57] + "…") if len(first_line) > 60 else (first_line or DEFAULT_TITLE)


class ConversationStore:
    """Thread-safe access to the conversation database."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_database(path, _SCHEMA)
        present = {row["name"] for row in self._db.execute("PRAGMA table_info(conversations)")}
        for column, definition in _ADDED_COLUMNS.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE conversations ADD COLUMN {column} {definition}")
        self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create_conversation(self, title: str = DEFAULT_TITLE) -> dict[str, Any]:
        now = time.time()
        conversation_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?,?,?,?)",
                (conversation_id, title, now, now),
            )
        return self.get_conversation(conversation_id)

    def list_conversations(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)"
                " AS message_count FROM conversations c ORDER BY updated_at DESC, created_at DESC"
            ).fetchall()
        return [dict(row) for row in rows]

    def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        """Raises: NotFound: no conversation has this id."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"Conversation {conversation_id} does not exist (it may be deleted).")
        return dict(row)

    def rename_conversation(self, conversation_id: str, title: str) -> dict[str, Any]:
        return self._set_column(conversation_id, "title", title)

    def set_tool_mode(self, conversation_id: str, mode: str) -> dict[str, Any]:
        if mode not in TOOL_MODES:
            raise InvalidRequest(f"Tool use must be one of {', '.join(TOOL_MODES)}.")
        return self._set_column(conversation_id, "tool_mode", mode)

    def _set_column(self, conversation_id: str, column: str, value: Any) -> dict[str, Any]:
        with self._lock:  # column names come from this module only, never from a caller
            cursor = self._db.execute(
                f"UPDATE conversations SET {column} = ? WHERE id = ?", (value, conversation_id)
            )
        if cursor.rowcount == 0:
            raise NotFound(f"Conversation {conversation_id} does not exist (it may be deleted).")
        return self.get_conversation(conversation_id)

    def delete_conversation(self, conversation_id: str) -> None:
        with self._lock:
            cursor = self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        if cursor.rowcount == 0:
            raise NotFound(f"Conversation {conversation_id} does not exist (it may be deleted).")

    def add_message(
        self, conversation_id: str, role: str, content: str, meta: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        now = time.time()
        self.get_conversation(conversation_id)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO messages (conversation_id, role, content, meta, created_at)"
                " VALUES (?,?,?,?,?)",
                (conversation_id, role, content, json.dumps(meta or {}), now),
            )
            self._db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
            )
            row = self._db.execute(
                "SELECT * FROM messages WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return _message(row)

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        self.get_conversation(conversation_id)
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
            ).fetchall()
        return [_message(row) for row in rows]


def _message(row: sqlite3.Row) -> dict[str, Any]:
    message = dict(row)
    message["meta"] = json.loads(message["meta"])
    return message
