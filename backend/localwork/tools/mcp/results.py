"""What a tool call returns, as typed content: text, images and audio (base64, size-capped),
resource links, embedded resources, structured content, and the server's own ``isError``."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from mcp import types as sdk

# Binary content (images, audio, blobs) above this many bytes is left out of a result: a
# model's context could not take it, and a misbehaving server could flood memory with it.
DEFAULT_MAX_BINARY_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class _Content:
    # The server's content annotations: who it is for ("user", "assistant"), how much it matters.
    audience: tuple[str, ...] = ()
    priority: float | None = None


@dataclass(frozen=True)
class TextContent(_Content):
    text: str


@dataclass(frozen=True)
class ImageContent(_Content):
    data: str  # base64
    mime_type: str
    size: int  # bytes, decoded


@dataclass(frozen=True)
class AudioContent(_Content):
    data: str  # base64
    mime_type: str
    size: int


@dataclass(frozen=True)
class ResourceLink(_Content):
    """A pointer to something the server can read; nothing was read."""

    uri: str
    name: str
    title: str | None = None
    description: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class EmbeddedResource(_Content):
    uri: str
    mime_type: str | None
    text: str | None = None  # a text resource
    data: str | None = None  # a binary one, base64


@dataclass(frozen=True)
class OmittedContent(_Content):
    """Binary content that was left out, and why."""

    kind: str  # "image", "audio", "resource"
    mime_type: str | None
    size: int  # bytes, decoded (0 when not valid base64)
    reason: str


Content = (
    TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource | OmittedContent
)


@dataclass(frozen=True)
class CallResult:
    content: tuple[Content, ...]
    structured: Any = None  # the server's structured content (JSON), when it gave one
    is_error: bool = False  # the server says the tool failed (isError); content says why

    def text(self) -> str:
        return "\n".join(part.text for part in self.content if isinstance(part, TextContent))


def call_result(result: sdk.CallToolResult, max_binary_bytes: int) -> CallResult:
    return CallResult(
        content=tuple(_content(block, max_binary_bytes) for block in result.content),
        structured=result.structured_content,
        is_error=result.is_error,
    )


def _content(block: sdk.ContentBlock, max_binary_bytes: int) -> Content:
    notes = block.annotations
    common: dict[str, Any] = {
        "audience": tuple(notes.audience or ()) if notes else (),
        "priority": notes.priority if notes else None,
    }
    if isinstance(block, sdk.TextContent):
        return TextContent(block.text, **common)
    if isinstance(block, sdk.ImageContent | sdk.AudioContent):
        kind = "image" if isinstance(block, sdk.ImageContent) else "audio"
        size, problem = _binary_size(block.data, max_binary_bytes)
        if problem:
            return OmittedContent(
                kind=kind, mime_type=block.mime_type, size=size, reason=problem, **common
            )
        made = ImageContent if kind == "image" else AudioContent
        return made(block.data, block.mime_type, size, **common)
    if isinstance(block, sdk.ResourceLink):
        return ResourceLink(
            uri=block.uri,
            name=block.name,
            title=block.title,
            description=block.description,
            mime_type=block.mime_type,
            size=block.size,
            **common,
        )
    resource = block.resource
    if isinstance(resource, sdk.TextResourceContents):
        return EmbeddedResource(resource.uri, resource.mime_type, text=resource.text, **common)
    size, problem = _binary_size(resource.blob, max_binary_bytes)
    if problem:
        return OmittedContent(
            kind="resource", mime_type=resource.mime_type, size=size, reason=problem, **common
        )
    return EmbeddedResource(resource.uri, resource.mime_type, data=resource.blob, **common)


def _binary_size(data: str, max_bytes: int) -> tuple[int, str | None]:
    """The decoded size of base64 ``data``, and why it must be left out (None: it may stay)."""
    estimate = len(data) * 3 // 4
    if estimate > max_bytes + 2:  # too big even before decoding it
        return estimate, f"larger than the {_megabytes(max_bytes)} limit"
    try:
        size = len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return 0, "not valid base64"
    if size > max_bytes:
        return size, f"larger than the {_megabytes(max_bytes)} limit"
    return size, None


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"
