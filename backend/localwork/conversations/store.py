"""Conversations and their messages, kept in SQLite under the data dir."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypedDict, cast

from localwork.errors import InvalidRequest, NotFound
from localwork.infra.database import open_database
from localwork.vocabulary import TOOL_MODES, ToolMode

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
    # When it was deleted; it can be restored until the app closes (undo of a delete).
    "deleted_at": "REAL",
    # How the assistant may use tools here: "off", "auto" (when it decides) or "required".
    "tool_mode": "TEXT NOT NULL DEFAULT 'auto'",
}


class Conversation(TypedDict):
    id: str
    title: str
    created_at: float
    updated_at: float
    deleted_at: float | None
    tool_mode: ToolMode


class ListedConversation(Conversation):
    message_count: int


class StoredMessage(TypedDict):
    id: int
    conversation_id: str
    role: Literal["user", "assistant"]
    content: str
    meta: dict[str, Any]  # the reply's tool calls, stats, notice, error… (chat/reply.py)
    created_at: float


DEFAULT_TITLE = "New chat"
TITLE_MAX = 200
SEARCH_LIMIT = 50
_SNIPPET_RADIUS = 40
_LIVE = "deleted_at IS NULL"


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
        # Undo of a delete lasts for one session: what was deleted before is gone now.
        self._db.execute("DELETE FROM conversations WHERE deleted_at IS NOT NULL")
        self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create_conversation(self, title: str = DEFAULT_TITLE) -> Conversation:
        now = time.time()
        conversation_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?,?,?,?)",
                (conversation_id, title, now, now),
            )
        return self.get_conversation(conversation_id)

    def list_conversations(self) -> list[ListedConversation]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)"
                " AS message_count FROM conversations c WHERE c.deleted_at IS NULL"
                " ORDER BY updated_at DESC, created_at DESC"
            ).fetchall()
        return [cast(ListedConversation, dict(row)) for row in rows]

    def get_conversation(
        self, conversation_id: str, *, include_deleted: bool = False
    ) -> Conversation:
        """Raises: NotFound: no conversation has this id (or it was deleted)."""
        live = "" if include_deleted else f" AND {_LIVE}"
        with self._lock:
            row = self._db.execute(
                f"SELECT * FROM conversations WHERE id = ?{live}", (conversation_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"Conversation {conversation_id} does not exist (it may be deleted).")
        return cast(Conversation, dict(row))

    def has_title(self, title: str) -> bool:
        with self._lock:
            query = f"SELECT 1 FROM conversations WHERE title = ? AND {_LIVE}"
            return self._db.execute(query, (title,)).fetchone() is not None

    def rename_conversation(self, conversation_id: str, title: str) -> Conversation:
        return self._set_column(conversation_id, "title", title)

    def set_tool_mode(self, conversation_id: str, mode: str) -> Conversation:
        if mode not in TOOL_MODES:
            raise InvalidRequest(f"Tool use must be one of {', '.join(TOOL_MODES)}.")
        return self._set_column(conversation_id, "tool_mode", mode)

    def _set_column(self, conversation_id: str, column: str, value: Any) -> Conversation:
        with self._lock:  # column names come from this module only, never from a caller
            cursor = self._db.execute(
                f"UPDATE conversations SET {column} = ? WHERE id = ? AND {_LIVE}",
                (value, conversation_id),
            )
        if cursor.rowcount == 0:
            raise NotFound(f"Conversation {conversation_id} does not exist (it may be deleted).")
        return self.get_conversation(conversation_id)

    def delete_conversation(self, conversation_id: str) -> None:
        """Hide the conversation; ``restore_conversation`` brings it back until the app closes."""
        with self._lock:
            cursor = self._db.execute(
                f"UPDATE conversations SET deleted_at = ? WHERE id = ? AND {_LIVE}",
                (time.time(), conversation_id),
            )
        if cursor.rowcount == 0:
            raise NotFound(f"Conversation {conversation_id} does not exist (it may be deleted).")

    def restore_conversation(self, conversation_id: str) -> Conversation:
        """Undo a delete made in this session.

        Raises:
            NotFound: the conversation was never there, or it is not deleted.
        """
        with self._lock:
            cursor = self._db.execute(
                "UPDATE conversations SET deleted_at = NULL"
                " WHERE id = ? AND deleted_at IS NOT NULL",
                (conversation_id,),
            )
        if cursor.rowcount == 0:
            raise NotFound(f"Conversation {conversation_id} is not in the deleted list any more.")
        return self.get_conversation(conversation_id)

    def add_message(
        self, conversation_id: str, role: str, content: str, meta: dict[str, Any] | None = None
    ) -> StoredMessage:
        now = time.time()
        # A reply that ends after its conversation was deleted is still kept, for undo.
        self.get_conversation(conversation_id, include_deleted=True)
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

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        self.get_conversation(conversation_id)
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
            ).fetchall()
        return [_message(row) for row in rows]

    def edit_message(self, conversation_id: str, message_id: int, content: str) -> None:
        """Replace a message's text and drop every later message: they answered the old text.

        Raises:
            NotFound: the conversation or the message does not exist.
        """
        self.get_conversation(conversation_id)
        with self._lock, self._transaction():
            cursor = self._db.execute(
                "UPDATE messages SET content = ? WHERE id = ? AND conversation_id = ?",
                (content, message_id, conversation_id),
            )
            if cursor.rowcount == 0:
                raise NotFound(f"Message {message_id} is not in this conversation.")
            self._drop_after(conversation_id, message_id)

    def delete_messages_after(self, conversation_id: str, message_id: int) -> int:
        """Delete the messages that came after ``message_id``; returns how many went."""
        self.get_conversation(conversation_id)
        with self._lock:
            return self._drop_after(conversation_id, message_id)

    def _drop_after(self, conversation_id: str, message_id: int) -> int:
        cursor = self._db.execute(
            "DELETE FROM messages WHERE conversation_id = ? AND id > ?",
            (conversation_id, message_id),
        )
        return cursor.rowcount

    def search(self, query: str) -> list[dict[str, Any]]:
        """Live conversations whose title or any message contains ``query`` (case-insensitive).

        Each result carries ``snippet``: the matching text around the first hit in a message,
        or None when only the title matched.
        """
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._lock:
            rows = self._db.execute(
                "SELECT c.*, (SELECT m.content FROM messages m WHERE m.conversation_id = c.id"
                "   AND m.content LIKE :p ESCAPE '\\' ORDER BY m.id LIMIT 1) AS hit"
                f" FROM conversations c WHERE c.{_LIVE}"
                "   AND (c.title LIKE :p ESCAPE '\\' OR hit IS NOT NULL)"
                " ORDER BY c.updated_at DESC LIMIT :limit",
                {"p": pattern, "limit": SEARCH_LIMIT},
            ).fetchall()
        results = []
        for row in rows:
            result = dict(row)
            hit = result.pop("hit")
            result["snippet"] = _snippet(hit, query) if hit else None
            results.append(result)
        return results

    def import_conversation(
        self, title: str, messages: list[dict[str, Any]], created_at: float | None = None
    ) -> Conversation:
        """Create a conversation with these messages in one transaction (all or nothing)."""
        now = time.time()
        conversation_id = uuid.uuid4().hex
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?,?,?,?)",
                (conversation_id, title, created_at or now, now),
            )
            self._db.executemany(
                "INSERT INTO messages (conversation_id, role, content, meta, created_at)"
                " VALUES (?,?,?,?,?)",
                [
                    (
                        conversation_id,
                        m["role"],
                        m["content"],
                        json.dumps(m.get("meta") or {}),
                        m.get("created_at") or now,
                    )
                    for m in messages
                ],
            )
        return self.get_conversation(conversation_id)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _snippet(text: str, query: str) -> str:
    flat = " ".join(text.split())
    at = max(flat.lower().find(query.lower()), 0)
    start = max(at - _SNIPPET_RADIUS, 0)
    end = at + len(query) + _SNIPPET_RADIUS
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _message(row: sqlite3.Row) -> StoredMessage:
    message = dict(row)
    message["meta"] = json.loads(message["meta"])
    return cast(StoredMessage, message)
