"""The user's MCP servers at work: the saved list (``store.py``) kept in step with the one
``McpServerManager`` that runs them, the tool sources of the servers that are on, and what
the Settings pane and ``localwork-hero mcp`` show of each.

Adding, removing, turning a server on or off, or importing a document saves ``mcp.json`` and
hands the manager the new list (a changed server is stopped, the rest keep running). A tool's
policy is read at each reply, so a change applies to the next one. Env values and headers
(often keys) never leave this module in full: ``listing`` masks them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from localwork.errors import InvalidRequest, LocalWorkError, McpCommandNotFound, McpError, NotFound
from localwork.settings import describe_validation_error
from localwork.tools.mcp.catalog import ToolInfo
from localwork.tools.mcp.config import DEFAULT_TIMEOUT_SECONDS, HttpServer, StdioServer
from localwork.tools.mcp.manager import McpServerManager
from localwork.tools.mcp.source import McpToolSource, PolicyOf
from localwork.tools.mcp.store import (
    McpEntry,
    McpStore,
    StartWhen,
    ToolPolicy,
    effective_policy,
    parse_entries,
)
from localwork.tools.mcp.supervisor import ServerState

log = logging.getLogger(__name__)

# A name we give a server: it becomes part of its tools' names when two servers share one.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_MASK = "********"


def mask(value: str) -> str:
    """A secret as the page may see it: its last four characters when it is long."""
    return _MASK + value[-4:] if len(value) >= 16 else _MASK


def state_line(state: ServerState) -> str:
    """``ready (N tools)``, ``failed: reason``, ``starting``, ``not started`` or ``off``."""
    if state.status == "ready":
        return f"ready ({state.tool_count} tool{'' if state.tool_count == 1 else 's'})"
    if state.status == "failed":
        return f"failed: {failure_reason(state)}"
    return {"disabled": "off", "stopped": "not started", "starting": "starting"}[state.status]


def failure_reason(state: ServerState) -> str:
    """Why it failed, in the error's words; a missing command as the launcher says it:
    "command not found: npx — install Node.js…"."""
    if state.error is None:
        return "it stopped"
    if isinstance(state.error, McpCommandNotFound):
        return state.error.message.removeprefix(f"The MCP server {state.name!r} cannot start: ")
    return state.error.message


def command_line(config: StdioServer | HttpServer) -> str:
    if isinstance(config, HttpServer):
        return config.url
    return " ".join([config.command, *config.args])


class McpService:
    def __init__(self, store: McpStore, manager: McpServerManager | None = None) -> None:
        self._store = store
        self._lock = threading.Lock()  # one change of the list at a time
        self.manager = manager or McpServerManager(self._configs(store.entries()))
        self._launch: threading.Thread | None = None

    @property
    def notice(self) -> str | None:
        """Set when ``mcp.json`` could not be read (it was set aside)."""
        return self._store.notice

    def names(self) -> list[str]:
        return list(self._store.entries())

    def configs(self) -> dict[str, StdioServer | HttpServer]:
        """Each server's settings, secrets and all: for this process only, never the page."""
        return self._configs(self._store.entries())

    def has_enabled(self) -> bool:
        return any(entry.config.enabled for entry in self._store.entries().values())

    # --- for the app ------------------------------------------------------------------------
    def sources(self, *, start: bool = True) -> list[McpToolSource]:
        """One tool source per server that is on, with its tools' policies; ``start`` False:
        sources that offer a server's tools only while it is ready (they start nothing)."""
        return [
            McpToolSource(self.manager, name, self._policy_of(name), start=start)
            for name, entry in self._store.entries().items()
            if entry.config.enabled
        ]

    def start_at_launch(self) -> None:
        """Start the servers that are on and marked "at_launch", in the background."""
        names = [
            name
            for name, entry in self._store.entries().items()
            if entry.config.enabled and entry.start == "at_launch"
        ]
        if not names:
            return

        def start_each() -> None:
            for name in names:
                try:
                    self.manager.start(name)
                except LocalWorkError as error:  # its state says why; the pane shows it
                    log.info("MCP server %s did not start at launch: %s", name, error.message)

        self._launch = threading.Thread(target=start_each, name="mcp-at-launch", daemon=True)
        self._launch.start()

    def close(self) -> None:
        """Stop every server (each one's process group with it)."""
        self.manager.close()

    # --- what the pane and the command line show --------------------------------------------
    def overview(self, *, start: bool = False) -> list[dict[str, Any]]:
        """Every server, as ``listing`` gives it; ``start``: start the ones that are on first
        (each within its timeout) so that their states and tools are current."""
        if start:
            self.manager.start_all()
        return [self.listing(name) for name in self._store.entries()]

    def listing(self, name: str) -> dict[str, Any]:
        entry = self._entry(name)
        state = self.manager.state(name)
        config = entry.config
        shown: dict[str, Any] = {
            "name": name,
            "kind": config.transport,
            "enabled": config.enabled,
            "start": entry.start,
            "timeout": config.timeout,
            "state": state.status,
            "state_text": state_line(state),
            "error": state.error.to_dict() if state.error else None,
            "advice": _advice(state, config),
            "tools": [self._tool_listing(entry, info) for info in state.tools],
        }
        if isinstance(config, StdioServer):
            shown.update(
                command=config.command,
                args=list(config.args),
                cwd=config.cwd,
                env={key: mask(value) for key, value in config.env.items()},
            )
        else:
            shown.update(
                url=config.url,
                headers={key: mask(value) for key, value in config.headers.items()},
            )
        return shown

    def tools(self, name: str) -> tuple[ToolInfo, ...]:
        """Its tools, starting it if needed.

        Raises:
            NotFound: no server of that name. McpError: it could not start.
        """
        self._entry(name)
        return self.manager.list_tools(name)

    # --- changes ----------------------------------------------------------------------------
    def add_stdio(
        self,
        name: str,
        command: str,
        args: list[str] | tuple[str, ...] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """Raises: InvalidRequest: a bad or taken name, or a bad setting."""
        config = _valid(
            StdioServer,
            command=command,
            args=tuple(args),
            env=dict(env or {}),
            cwd=cwd,
            timeout=timeout,
        )
        return self._add(name, config)

    def add_http(
        self,
        name: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> dict[str, Any]:
        """Raises: InvalidRequest: a bad or taken name, or a bad address."""
        config = _valid(HttpServer, url=url, headers=dict(headers or {}), timeout=timeout)
        return self._add(name, config)

    def import_document(self, text: str) -> dict[str, Any]:
        """Merge the servers of an ``mcpServers`` document: a name already used is skipped.

        Raises:
            McpConfigInvalid: the document is not that form (nothing is added).
        """
        found = parse_entries(text)
        with self._lock:
            entries = self._store.entries()
            added = [name for name in found if name not in entries]
            skipped = [
                {"name": name, "reason": "a server of that name exists already"}
                for name in found
                if name in entries
            ]
            self._save({**entries, **{name: found[name] for name in added}})
        return {"added": added, "skipped": skipped}

    def remove(self, name: str) -> None:
        """Raises: NotFound: no server of that name."""
        with self._lock:
            entries = self._store.entries()
            if name not in entries:
                raise NotFound(f"There is no MCP server named {name!r}.")
            del entries[name]
            self._save(entries)

    def set_enabled(self, name: str, enabled: bool) -> dict[str, Any]:
        return self._change(name, config={"enabled": enabled})

    def set_start(self, name: str, start: StartWhen) -> dict[str, Any]:
        return self._change(name, start=start)

    def set_timeout(self, name: str, timeout: float) -> dict[str, Any]:
        return self._change(name, config={"timeout": timeout})

    def set_tool_policy(self, name: str, tool: str, policy: ToolPolicy | None) -> dict[str, Any]:
        """The user's choice for one tool; None forgets it (the default applies again)."""
        with self._lock:
            entry = self._entry(name)
            chosen = {key: value for key, value in entry.tool_policy.items() if key != tool}
            if policy is not None:
                chosen[tool] = policy
            self._save({**self._store.entries(), name: _replace(entry, tool_policy=chosen)})
        return self.listing(name)

    def restart(self, name: str) -> dict[str, Any]:
        """Stop it and start it again now; a failure shows in its listing."""
        self._entry(name)
        self.manager.stop(name)
        try:
            self.manager.start(name)
        except LocalWorkError as error:
            log.info("MCP server %s did not restart: %s", name, error.message)
        return self.listing(name)

    # --- inside -----------------------------------------------------------------------------
    def _entry(self, name: str) -> McpEntry:
        entry = self._store.entries().get(name)
        if entry is None:
            raise NotFound(f"There is no MCP server named {name!r}.")
        return entry

    def _policy_of(self, name: str) -> PolicyOf:
        def policy(tool: ToolInfo) -> ToolPolicy:
            entry = self._store.entries().get(name)
            return effective_policy(entry, tool) if entry else "ask"

        return policy

    def _tool_listing(self, entry: McpEntry, info: ToolInfo) -> dict[str, Any]:
        return {
            "name": info.name,
            "title": info.title,
            "description": info.description,
            "read_only_hint": info.annotations.read_only,
            "destructive_hint": info.annotations.destructive,
            "policy": effective_policy(entry, info),
            "chosen": entry.tool_policy.get(info.name),  # None: the user has not chosen
        }

    def _add(self, name: str, config: StdioServer | HttpServer) -> dict[str, Any]:
        if not re.match(NAME_PATTERN, name):
            raise InvalidRequest(
                f"{name!r} is not a usable server name: use letters, digits, '.', '_' and '-' "
                "(up to 64, starting with a letter or digit)."
            )
        with self._lock:
            entries = self._store.entries()
            if name in entries:
                raise InvalidRequest(
                    f"There is already an MCP server named {name!r}: remove it first, or "
                    "choose another name."
                )
            self._save({**entries, name: McpEntry(config)})
        return self.listing(name)

    def _change(
        self, name: str, *, config: dict[str, Any] | None = None, start: StartWhen | None = None
    ) -> dict[str, Any]:
        with self._lock:
            entry = self._entry(name)
            changed = entry.config
            if config:
                changed = _valid(type(changed), **{**changed.model_dump(), **config})
            entry = _replace(entry, config=changed, start=start or entry.start)
            self._save({**self._store.entries(), name: entry})
        return self.listing(name)

    def _save(self, entries: Mapping[str, McpEntry]) -> None:
        self._store.replace(entries)
        self.manager.set_servers(self._configs(entries))

    @staticmethod
    def _configs(entries: Mapping[str, McpEntry]) -> dict[str, StdioServer | HttpServer]:
        return {name: entry.config for name, entry in entries.items()}


def _replace(entry: McpEntry, **changes: Any) -> McpEntry:
    fields = {"config": entry.config, "start": entry.start, "tool_policy": entry.tool_policy}
    return McpEntry(**{**fields, **changes})


def _valid(kind: type[StdioServer] | type[HttpServer], **fields: Any) -> StdioServer | HttpServer:
    fields.pop("transport", None)
    try:
        return kind(**fields)
    except ValidationError as error:
        raise InvalidRequest(describe_validation_error(error)) from None


def _advice(state: ServerState, config: StdioServer | HttpServer) -> str | None:
    """What to do about a server that failed."""
    if state.status != "failed":
        return None
    if isinstance(state.error, McpCommandNotFound):
        return "Install what the message names, or give the command's full path, then restart."
    if isinstance(config, HttpServer):
        return "Check the address, its headers, and that the server is running; then restart."
    if isinstance(state.error, McpError) and state.error.stderr_tail:
        return "Its last lines on stderr are shown: fix what they say, then restart."
    return "Check the command, its arguments and environment, then restart."
