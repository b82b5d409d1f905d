"""The user's MCP servers, kept in ``mcp.json`` in the config folder.

The file is an ``mcpServers`` document, as Claude Desktop, Cursor and LM Studio write it, so a
user can paste theirs in and other apps can read ours. Each server may carry two keys of our
own, which other apps (and ``config.parse_mcp_servers``) ignore::

    {"mcpServers": {"time": {"command": "uvx", "args": ["mcp-server-time"],
                             "start": "at_launch",
                             "toolPolicy": {"get_current_time": "allow"}}}}

``start``: "on_use" (the default: started by the first reply that offers tools) or
"at_launch". ``toolPolicy``: the user's own choice per tool, "ask", "allow" or "off"; a tool
without one gets the default (``effective_policy``). A file that cannot be read is set aside
as ``mcp.json.broken-<timestamp>`` and the app starts with no servers; ``notice`` says so.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from localwork.errors import McpConfigInvalid
from localwork.infra.atomic import atomic_write_bytes
from localwork.infra.broken import set_aside
from localwork.infra.paths import PRIVATE_FILE
from localwork.settings import describe_validation_error
from localwork.tools.mcp.catalog import ToolInfo
from localwork.tools.mcp.config import (
    HttpServer,
    StdioServer,
    parse_mcp_servers,
    to_mcp_servers_json,
)

log = logging.getLogger(__name__)

StartWhen = Literal["on_use", "at_launch"]
# "ask": each call waits for the user; "allow": calls run without asking; "off": not offered.
ToolPolicy = Literal["ask", "allow", "off"]
START_VALUES: tuple[StartWhen, ...] = ("on_use", "at_launch")
POLICIES: tuple[ToolPolicy, ...] = ("ask", "allow", "off")


@dataclass(frozen=True)
class McpEntry:
    """One server the user added, with our own keys."""

    config: StdioServer | HttpServer
    start: StartWhen = "on_use"
    # The user's explicit choices only: a tool missing here has the default policy.
    tool_policy: Mapping[str, ToolPolicy] = field(default_factory=dict)


def effective_policy(entry: McpEntry, tool: ToolInfo) -> ToolPolicy:
    """The user's choice for ``tool``; without one, "allow" when the server hints that the tool
    only reads (``readOnlyHint``), else "ask"."""
    chosen = entry.tool_policy.get(tool.name)
    if chosen is not None:
        return chosen
    return "allow" if tool.annotations.is_read_only else "ask"


class _OurKeys(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start: StartWhen = "on_use"
    toolPolicy: dict[str, ToolPolicy] = {}  # the file's own spelling


def parse_entries(document: str | bytes | Mapping[str, Any]) -> dict[str, McpEntry]:
    """The servers of an ``mcpServers`` document, with our keys where it has them.

    Raises:
        McpConfigInvalid: not that form; ``fields`` names each problem.
    """
    configs = parse_mcp_servers(document)
    data = json.loads(document) if isinstance(document, str | bytes) else document
    servers = data.get("mcpServers", data.get("servers"))
    entries: dict[str, McpEntry] = {}
    problems: dict[str, str] = {}
    for name, config in configs.items():
        try:
            ours = _OurKeys.model_validate(servers[name])
        except ValidationError as error:
            problems[f"mcpServers.{name}"] = describe_validation_error(error)
            continue
        entries[name] = McpEntry(config, ours.start, dict(ours.toolPolicy))
    if problems:
        listed = "; ".join(f"{path}: {message}" for path, message in problems.items())
        raise McpConfigInvalid(f"The MCP servers configuration is not valid. {listed}", problems)
    return entries


def entries_json(entries: Mapping[str, McpEntry]) -> dict[str, Any]:
    """``entries`` as an ``mcpServers`` document, our keys only where they differ from the
    defaults."""
    document = to_mcp_servers_json({name: entry.config for name, entry in entries.items()})
    for name, entry in entries.items():
        written = document["mcpServers"][name]
        if entry.start != "on_use":
            written["start"] = entry.start
        if entry.tool_policy:
            written["toolPolicy"] = dict(entry.tool_policy)
    return document


class McpStore:
    """Loads and atomically saves ``mcp.json``; thread-safe."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self.notice: str | None = None
        self._entries = self._load()

    def entries(self) -> dict[str, McpEntry]:
        with self._lock:
            return dict(self._entries)

    def replace(self, entries: Mapping[str, McpEntry]) -> None:
        """Save these servers, in this order, instead of the ones saved."""
        with self._lock:
            payload = json.dumps(entries_json(entries), indent=2, ensure_ascii=False)
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Private: a server's env and headers often hold keys.
            atomic_write_bytes(self._path, (payload + "\n").encode("utf-8"), PRIVATE_FILE)
            self._entries = dict(entries)

    def _load(self) -> dict[str, McpEntry]:
        if not self._path.exists():
            return {}
        try:
            return parse_entries(self._path.read_bytes())
        except (OSError, McpConfigInvalid) as error:
            reason = error.message if isinstance(error, McpConfigInvalid) else str(error)
            backup = set_aside(self._path)
            self.notice = (
                f"Your MCP servers file could not be read ({reason}). It was kept as "
                f"{backup.name} and LocalWork Hero started with no MCP servers."
            )
            log.warning("MCP servers file set aside: %s", reason)
            return {}
