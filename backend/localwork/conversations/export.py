"""Conversations in and out of the app: export to Markdown or JSON, import from JSON.

An imported file is untrusted. It is parsed with size limits and validated field by field
against the same shape the export writes; anything else is refused with a message that
names the field. Each message's ``meta`` travels as-is, but its known parts (reply stats,
the stopped flag, tool calls) must have their known types.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from localwork import APP_NAME
from localwork.conversations.store import TITLE_MAX, Conversation, ConversationStore
from localwork.errors import InvalidRequest
from localwork.infra.atomic import atomic_write_bytes
from localwork.settings import describe_validation_error

FORMAT = "localwork-hero/conversation"
FORMAT_VERSION = 1
MAX_IMPORT_CHARS = 6_000_000  # under the HTTP bridge's 8 MiB request cap, JSON-escaped
MAX_MESSAGES = 10_000
MAX_MESSAGE_CHARS = 1_000_000
MAX_META_CHARS = 200_000
MAX_JSON_DEPTH = 32
MAX_TOOL_ROUNDS = 100  # the loop allows 50 at most; more is not from this app

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Scalar = int | float | str | bool | None
ExportFormat = Literal["markdown", "json"]
SavePicker = Callable[[str], str | None]  # suggested file name → chosen path, or None


class _Preview(BaseModel):
    model_config = ConfigDict(extra="allow")
    summary: str | None = Field(None, max_length=10_000)
    diff: str | None = None
    error: str | None = Field(None, max_length=10_000)


class _ToolCallRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = Field(None, max_length=100)
    round: int = Field(0, ge=0, le=MAX_TOOL_ROUNDS)
    tool: str | None = Field(None, min_length=1, max_length=200)  # None: an unreadable call
    arguments: dict[str, Any] | None = None
    status: str = Field("", max_length=100)
    result: Any = None
    error: str | None = None
    preview: _Preview | None = None
    reason: str = Field("", max_length=2000)


class _Failure(BaseModel):
    """Why a reply failed and what to do (chat/failures.py), saved with it."""

    model_config = ConfigDict(extra="allow")
    code: str = Field(max_length=100)
    message: str = Field(max_length=10_000)
    advice: str | None = Field(None, max_length=10_000)
    retry: bool = True


class _Meta(BaseModel):
    """What the app itself writes into ``meta``; unknown keys are kept as they are."""

    model_config = ConfigDict(extra="allow")
    stats: dict[str, Scalar] | None = None
    stopped: bool | None = None
    tool_calls: list[_ToolCallRecord] | None = None
    round_texts: list[str] | None = Field(None, max_length=MAX_TOOL_ROUNDS)
    notice: str | None = Field(None, max_length=10_000)
    error: _Failure | None = None


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")  # e.g. the ids of the database it came from
    role: Literal["user", "assistant"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: float | None = Field(None, ge=0)


class _Conversation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    format: Literal["localwork-hero/conversation"]
    version: Literal[1]
    title: Title
    created_at: float | None = Field(None, ge=0)
    messages: list[_Message] = Field(max_length=MAX_MESSAGES)


def to_json(conversation: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "title": conversation["title"],
        "created_at": conversation["created_at"],
        "exported_at": time.time(),
        "messages": [
            {key: m[key] for key in ("role", "content", "meta", "created_at")} for m in messages
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def to_markdown(conversation: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    exported = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    parts = [f"# {conversation['title']}", f"_Exported from {APP_NAME} on {exported}._"]
    for message in messages:
        parts.append("## You" if message["role"] == "user" else "## Assistant")
        parts.append(message["content"])
        for call in message["meta"].get("tool_calls") or []:
            parts.append(f"> Tool `{call.get('tool')}`: {call.get('status', '')}")
        failure = message["meta"].get("error")
        if failure:
            parts.append(f"> The reply failed: {failure.get('message', '')}")
    return "\n\n".join(parts) + "\n"


def _depth(value: Any, limit: int) -> int:
    """How deeply nested a parsed JSON value is, stopping early past ``limit``."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse_import(text: str) -> dict[str, Any]:
    """Check an exported conversation file and return its title and messages.

    Raises:
        InvalidRequest: the text is too large, not JSON, or not a conversation in our format;
            the message says which part is wrong.
    """
    if len(text) > MAX_IMPORT_CHARS:
        raise InvalidRequest(
            f"The file is too large to import ({len(text)} characters; the limit is "
            f"{MAX_IMPORT_CHARS})."
        )
    too_deep = InvalidRequest("The file is nested too deeply to be a conversation export.")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidRequest(f"The file is not valid JSON: {error}.") from None
    except RecursionError:
        raise too_deep from None
    if _depth(document, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise too_deep
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidRequest(
            f'This is not a {APP_NAME} conversation export (it has no "format": "{FORMAT}").'
        )
    try:
        conversation = _Conversation.model_validate(document)
        for message in conversation.messages:
            _Meta.model_validate(message.meta)
            if len(json.dumps(message.meta)) > MAX_META_CHARS:
                raise InvalidRequest("A message's meta is too large to import.")
    except ValidationError as error:
        raise InvalidRequest(
            f"The conversation file is damaged: {describe_validation_error(error)}"
        ) from None
    return {
        "title": conversation.title,
        "created_at": conversation.created_at,
        "messages": [message.model_dump() for message in conversation.messages],
    }


def file_stem(title: str) -> str:
    """A file name from a title: no path separators or characters file systems refuse."""
    stem = " ".join(re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).split()).strip(" .")
    return stem[:80] or "conversation"


class ConversationFiles:
    """Export and import for the bridge. In the desktop window ``save_picker`` is a native
    Save dialog; in a browser (``--serve``) there is none and the page downloads the text."""

    _WRITERS: ClassVar[dict[str, tuple[Callable[..., str], str, str]]] = {
        "json": (to_json, "json", "application/json"),
        "markdown": (to_markdown, "md", "text/markdown"),
    }

    def __init__(self, store: ConversationStore, save_picker: SavePicker | None = None) -> None:
        self._store = store
        self._save_picker = save_picker

    def export(self, conversation_id: str, format: ExportFormat) -> dict[str, str]:
        """Raises: NotFound: the conversation does not exist."""
        conversation = self._store.get_conversation(conversation_id)
        write, extension, mime = self._WRITERS[format]
        return {
            "filename": f"{file_stem(conversation['title'])}.{extension}",
            "content": write(conversation, self._store.messages(conversation_id)),
            "mime": mime,
        }

    def save(self, conversation_id: str, format: ExportFormat) -> dict[str, str | None]:
        """Ask where to save the export and write it there; ``path`` is None if cancelled.

        Raises:
            InvalidRequest: there is no Save dialog here (a browser downloads instead).
            NotFound: the conversation does not exist.
        """
        if self._save_picker is None:
            raise InvalidRequest("There is no Save dialog here; the export is downloaded instead.")
        exported = self.export(conversation_id, format)
        chosen = self._save_picker(exported["filename"])
        if chosen:
            atomic_write_bytes(Path(chosen), exported["content"].encode("utf-8"))
        return {"path": chosen}

    def import_conversation(self, text: str) -> Conversation:
        """Raises: InvalidRequest: see ``parse_import``."""
        parsed = parse_import(text)
        return self._store.import_conversation(
            self._fresh_title(parsed["title"]), parsed["messages"], parsed["created_at"]
        )

    def _fresh_title(self, title: str) -> str:
        """The title, marked "(imported)" when a conversation already has it."""
        candidate, number = title, 1
        while self._store.has_title(candidate):
            mark = " (imported)" if number == 1 else f" (imported {number})"
            candidate = title[: TITLE_MAX - len(mark)] + mark
            number += 1
        return candidate
