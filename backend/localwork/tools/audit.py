"""The audit log of tool calls (append-only) and what undo needs, in SQLite."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from localwork.infra.database import open_database
from localwork.tools.approval import Decision

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tool_calls (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at       REAL NOT NULL,
    conversation_id  TEXT,
    tool             TEXT NOT NULL,
    arguments        TEXT NOT NULL,
    decision         TEXT NOT NULL,   -- auto | approved | denied | refused (tools/approval.py)
    ok               INTEGER NOT NULL,
    summary          TEXT NOT NULL,
    hashes           TEXT NOT NULL,   -- sha256 of content before / after, by path
    runs_on          TEXT             -- another program that ran it (an MCP server): no undo
);
CREATE TRIGGER IF NOT EXISTS tool_calls_no_update BEFORE UPDATE ON tool_calls
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS tool_calls_no_delete BEFORE DELETE ON tool_calls
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE IF NOT EXISTS changes (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id      INTEGER NOT NULL REFERENCES tool_calls(id),
    kind         TEXT NOT NULL,      -- created | overwritten | deleted | moved | folder
    path         TEXT NOT NULL,
    other_path   TEXT,               -- the destination of a move
    backup       TEXT,               -- file keeping the previous content
    undone_at    REAL
);
"""


class AuditLog:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_database(path, _SCHEMA)
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(tool_calls)")}
        if "runs_on" not in columns:  # a log from before MCP tools
            self._db.execute("ALTER TABLE tool_calls ADD COLUMN runs_on TEXT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(
        self,
        *,
        conversation_id: str | None,
        tool: str,
        arguments: dict[str, Any],
        decision: Decision,
        ok: bool,
        summary: str,
        hashes: dict[str, Any],
        changes: list[dict[str, Any]],
        undoes: int | None = None,
        runs_on: str | None = None,
    ) -> int:
        """Append one call; ``undoes`` marks that change undone in the same transaction;
        ``runs_on`` names the other program that ran it (its effects have no undo)."""
        with self._lock:
            self._db.execute("BEGIN")
            cursor = self._db.execute(
                "INSERT INTO tool_calls (created_at, conversation_id, tool, arguments, decision,"
                " ok, summary, hashes, runs_on) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    time.time(),
                    conversation_id,
                    tool,
                    json.dumps(arguments),
                    decision,
                    int(ok),
                    summary[:2000],
                    json.dumps(hashes),
                    runs_on,
                ),
            )
            call_id = cursor.lastrowid
            assert call_id is not None  # an INSERT always gives one
            for change in changes:
                self._db.execute(
                    "INSERT INTO changes (call_id, kind, path, other_path, backup)"
                    " VALUES (?,?,?,?,?)",
                    (
                        call_id,
                        change["kind"],
                        change["path"],
                        change.get("other_path"),
                        change.get("backup"),
                    ),
                )
            if undoes is not None:
                self._db.execute(
                    "UPDATE changes SET undone_at = ? WHERE id = ?", (time.time(), undoes)
                )
            self._db.execute("COMMIT")
        return call_id

    def calls(
        self, conversation_id: str | None = None, newest: int | None = None
    ) -> list[dict[str, Any]]:
        """Calls in order, all of them or only the ``newest`` few."""
        query = "SELECT * FROM tool_calls"
        params: tuple[Any, ...] = ()
        if conversation_id is not None:
            query += " WHERE conversation_id = ?"
            params = (conversation_id,)
        query += " ORDER BY id DESC"
        if newest is not None:
            query += " LIMIT ?"
            params = (*params, newest)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()[::-1]
        return [
            {
                **dict(row),
                "arguments": json.loads(row["arguments"]),
                "hashes": json.loads(row["hashes"]),
                "ok": bool(row["ok"]),
                # It ran in another program (an MCP server): what it did cannot be undone here.
                "no_undo": row["runs_on"] is not None,
            }
            for row in rows
        ]

    def changes(self, call_id: int | None = None, since_call: int = 0) -> list[dict[str, Any]]:
        """Changes in order: of one call, or of every call from ``since_call`` on."""
        query, params = "SELECT * FROM changes WHERE call_id >= ?", (since_call,)
        if call_id is not None:
            query, params = "SELECT * FROM changes WHERE call_id = ?", (call_id,)
        with self._lock:
            return [dict(row) for row in self._db.execute(query + " ORDER BY id", params)]

    def change(self, change_id: int) -> dict[str, Any] | None:
        """One change, with the tool, conversation and content hashes of the call that made it."""
        with self._lock:
            row = self._db.execute(
                "SELECT c.*, t.tool, t.hashes, t.conversation_id FROM changes c JOIN tool_calls t"
                " ON t.id = c.call_id WHERE c.id = ?",
                (change_id,),
            ).fetchone()
        return {**dict(row), "hashes": json.loads(row["hashes"])} if row else None

    def recent_changes(self, limit: int) -> list[dict[str, Any]]:
        """The newest changes first, each with its call's tool and time."""
        with self._lock:
            rows = self._db.execute(
                "SELECT c.*, t.tool, t.created_at FROM changes c JOIN tool_calls t"
                " ON t.id = c.call_id ORDER BY c.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [dict(row) for row in rows]

    def newer_changes(self, change: dict[str, Any]) -> list[dict[str, Any]]:
        """Changes after this one to the same paths that still stand (undos not counted: an
        undo of a newer change leaves the file as this change left it, which the hash shows)."""
        paths = [p for p in (change["path"], change["other_path"]) if p]
        marks = ",".join("?" * len(paths))
        with self._lock:
            rows = self._db.execute(
                "SELECT c.* FROM changes c JOIN tool_calls t ON t.id = c.call_id"
                f" WHERE c.id > ? AND c.undone_at IS NULL AND t.tool != 'undo'"
                f" AND (c.path IN ({marks}) OR c.other_path IN ({marks})) ORDER BY c.id",
                (change["id"], *paths, *paths),
            ).fetchall()
        return [dict(row) for row in rows]
