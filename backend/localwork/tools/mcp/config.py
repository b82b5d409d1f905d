"""An MCP server's settings, and the ``mcpServers`` JSON that describes several.

Claude Desktop, Cursor, LM Studio and Cline write::

    {"mcpServers": {
        "git":    {"command": "uvx", "args": ["mcp-server-git"], "env": {"A": "b"}},
        "remote": {"url": "https://example.com/mcp", "headers": {"Authorization": "…"}}}}

VS Code writes the same under ``"servers"``, with a ``"type"``. ``parse_mcp_servers`` reads
any of these into ``StdioServer`` / ``HttpServer``; ``to_mcp_servers_json`` writes them back.
Keys only other apps understand (``autoApprove``…) are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from localwork.errors import McpConfigInvalid

DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_TIMEOUT_SECONDS = 3600.0

# A server's name is shown to the user and becomes part of its tools' names.
ServerName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]


class _Server(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: float = Field(
        DEFAULT_TIMEOUT_SECONDS,
        gt=0,
        le=MAX_TIMEOUT_SECONDS,
        description="Seconds to wait for the server to start, and for each call to answer.",
    )
    enabled: bool = True


class StdioServer(_Server):
    """A local server: a command the app starts, talking MCP over its stdin and stdout."""

    transport: Literal["stdio"] = "stdio"
    command: str = Field(min_length=1)
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)  # over the SDK's few inherited variables
    cwd: str | None = None

    @field_validator("cwd")
    @classmethod
    def _absolute_cwd(cls, cwd: str | None) -> str | None:
        # Relative to what? The app's own working folder is no place the user chose.
        if cwd is not None and not (PurePath(cwd).is_absolute() or cwd.startswith("~")):
            raise ValueError("must be an absolute path")
        return cwd


class HttpServer(_Server):
    """A server reached over Streamable HTTP at ``url``."""

    transport: Literal["http"] = "http"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// address")
        return url


ServerConfig = Annotated[StdioServer | HttpServer, Field(discriminator="transport")]

# The "type" other apps write for each transport; SSE, the old HTTP transport, is refused.
_STDIO_TYPES = {"stdio"}
_HTTP_TYPES = {"http", "streamable-http", "streamablehttp", "streamable_http"}


class _ForeignEntry(BaseModel):
    """One server as other apps write it."""

    model_config = ConfigDict(extra="ignore")

    type: str | None = None
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float | None = Field(None, gt=0, le=MAX_TIMEOUT_SECONDS)
    enabled: bool | None = None
    disabled: bool | None = None  # Cline's and Cursor's way to say it

    @model_validator(mode="after")
    def _one_transport(self) -> _ForeignEntry:
        kind = (self.type or "").lower()
        if kind == "sse":
            raise ValueError(
                "uses the old SSE transport, which is not supported: "
                "ask for the server's Streamable HTTP address"
            )
        if kind and kind not in _STDIO_TYPES | _HTTP_TYPES:
            raise ValueError(f'has an unknown "type": {self.type!r} (use "stdio" or "http")')
        if self.command and self.url:
            raise ValueError('has both a "command" and a "url": give one')
        if not self.command and not self.url:
            raise ValueError('needs a "command" (a local server) or a "url" (a remote one)')
        if kind and (kind in _STDIO_TYPES) != bool(self.command):
            needed = "command" if kind in _STDIO_TYPES else "url"
            raise ValueError(f'is of "type" "{self.type}", so it needs a "{needed}"')
        return self

    def to_config(self) -> dict[str, Any]:
        common: dict[str, Any] = {}
        if self.timeout is not None:
            common["timeout"] = self.timeout
        if self.enabled is not None or self.disabled is not None:
            common["enabled"] = self.enabled if self.enabled is not None else not self.disabled
        if self.command:
            return {
                "transport": "stdio",
                "command": self.command,
                "args": self.args,
                "env": self.env,
                "cwd": self.cwd,
                **common,
            }
        return {"transport": "http", "url": self.url, "headers": self.headers, **common}


_NAME = TypeAdapter(ServerName)
_SERVER: TypeAdapter[StdioServer | HttpServer] = TypeAdapter(ServerConfig)
_EXAMPLE = '{"mcpServers": {"name": {"command": "…", "args": ["…"]}}}'


def parse_mcp_servers(
    document: str | bytes | Mapping[str, Any],
) -> dict[str, StdioServer | HttpServer]:
    """The servers an ``mcpServers`` document describes, by name.

    Raises:
        McpConfigInvalid: not JSON, or not that form; ``fields`` names each problem.
    """
    data = _load_json(document) if isinstance(document, str | bytes) else document
    servers = data.get("mcpServers", data.get("servers")) if isinstance(data, Mapping) else None
    if not isinstance(servers, Mapping):  # "servers" is VS Code's spelling
        raise McpConfigInvalid(
            f"The MCP servers configuration must be a JSON object like {_EXAMPLE}.",
            {"mcpServers": "missing, or not an object"},
        )
    parsed: dict[str, StdioServer | HttpServer] = {}
    problems: dict[str, str] = {}
    for name, entry in servers.items():
        where = "mcpServers." + (name or '""')
        try:
            _NAME.validate_python(name)
        except ValidationError as error:
            problems[where] = f"not a usable name: {error.errors()[0]['msg']}"
            continue
        try:  # each server in two steps: its foreign form, then ours
            parsed[name] = _SERVER.validate_python(_ForeignEntry.model_validate(entry).to_config())
        except ValidationError as error:
            problems.update(_problems(where, error))
    if problems:
        listed = "; ".join(f"{path}: {message}" for path, message in problems.items())
        raise McpConfigInvalid(f"The MCP servers configuration is not valid. {listed}", problems)
    return parsed


def to_mcp_servers_json(servers: Mapping[str, StdioServer | HttpServer]) -> dict[str, Any]:
    """``servers`` in the ``mcpServers`` form, giving only what differs from the defaults."""
    written: dict[str, Any] = {}
    for name, server in servers.items():
        entry = server.model_dump(exclude_defaults=True, exclude={"transport", "enabled"})
        if "args" in entry:
            entry["args"] = list(entry["args"])
        if not server.enabled:
            entry["disabled"] = True
        written[name] = entry
    return {"mcpServers": written}


def _load_json(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except UnicodeDecodeError:
        raise McpConfigInvalid("The MCP servers file is not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise McpConfigInvalid(
            f"The MCP servers file is not valid JSON (line {error.lineno}, column "
            f"{error.colno}: {error.msg})."
        ) from None


def _problems(where: str, error: ValidationError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        # The document's own field names, without the internal union's tags.
        location = [str(part) for part in problem["loc"] if part not in ("stdio", "http")]
        path = ".".join([where, *location])
        problems.setdefault(path, problem["msg"].removeprefix("Value error, "))
    return problems
