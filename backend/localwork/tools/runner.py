"""Runs one tool call the way the agent does: validate, approve, run, audit.

The calls may go to any tool source (``source.py``): the runner keeps the steps they share.
The command line (`localwork-hero tool`) and the agent loop both call ``ToolRunner.run``, so
scripts exercise exactly the path the model's calls take.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from localwork.errors import InvalidRequest, LocalWorkError, ToolError
from localwork.tools.approval import Approval, Decision
from localwork.tools.audit import AuditLog
from localwork.tools.base import Tool, ToolResult
from localwork.tools.source import ProgressNote, SourceRun, ToolSource
from localwork.tools.summary import plain_summary

log = logging.getLogger(__name__)


class ToolRunner:
    def __init__(self, sources: Sequence[ToolSource], audit: AuditLog) -> None:
        self._audit = audit
        # name -> (its source, the tool as the source named it); a name two sources share
        # is qualified with the later source's name ("time_now", then "clock_time_now").
        self._tools: dict[str, Tool] = {}
        self._sources: dict[str, tuple[ToolSource, Tool]] = {}
        self._offered: dict[str, Tool] = {}
        for source in sources:
            available = source.available()
            for tool in source.tools():
                name = tool.name if tool.name not in self._tools else f"{source.name}_{tool.name}"
                self._tools[name] = dataclasses.replace(tool, name=name)
                self._sources[name] = (source, tool)
                if available:
                    self._offered[name] = self._tools[name]

    @property
    def tools(self) -> dict[str, Tool]:
        """Every tool of every source, by the names the model calls them."""
        return self._tools

    @property
    def offered(self) -> dict[str, Tool]:
        """The tools of the sources that are available now: what the model is offered."""
        return self._offered

    def approval_key(self, name: str) -> str:
        """What "allow for this chat" is kept under: the source and the tool's own name, so
        that it never carries over to another source's tool that comes to have this name."""
        if name not in self._sources:
            return name
        source, tool = self._sources[name]
        return f"{source.name}\x1f{tool.name}"

    def needs_approval(self, name: str) -> bool:
        tool = self._tools.get(name)
        return bool(tool and tool.may_change)

    def preview(self, name: str, arguments: Any) -> dict[str, Any]:
        """What a change would do, for the approval card; ``{"error": ...}`` when it cannot
        succeed (unknown tool, bad arguments, text not found, outside the grants)."""
        if name not in self._sources:
            return {"error": f"unknown tool {name!r}"}
        source, tool = self._sources[name]
        try:
            checked = tool.validate(arguments)
        except InvalidRequest as error:
            return {"error": f"invalid arguments: {error.message}"}
        try:
            return source.preview(tool, checked)
        except LocalWorkError as error:
            return {"error": error.message}
        except OSError as error:
            return {"error": f"{name} cannot run: {error.strerror or error}"}

    def run(
        self,
        name: str,
        arguments: Any,
        *,
        approval: Approval = "ask",
        reason: str = "",
        conversation_id: str | None = None,
        on_progress: ProgressNote | None = None,
    ) -> ToolResult:
        """Run one call. Reads run at once; changes run only when ``approval`` is "approved".

        Never raises for a bad call: the result carries an error the model can act on.
        """
        if name not in self._sources:
            known = ", ".join(sorted(self._tools))
            return self._finish(
                name,
                arguments,
                "refused",
                conversation_id,
                error=f"unknown tool {name!r}; the tools are: {known}",
            )
        source, tool = self._sources[name]
        try:
            checked = tool.validate(arguments)
        except InvalidRequest as error:
            return self._finish(
                name,
                arguments,
                "refused",
                conversation_id,
                error=f"invalid arguments: {error.message}",
            )
        decision: Decision = "auto"
        if tool.may_change:
            if approval == "denied":
                why = f": {reason}" if reason else ""
                return self._finish(
                    name,
                    arguments,
                    "denied",
                    conversation_id,
                    error=f"the user denied this {name} call{why}",
                )
            if approval != "approved":
                what = f"a call to {tool.runs_on}" if tool.runs_on else "changing files"
                return self._finish(
                    name,
                    arguments,
                    "refused",
                    conversation_id,
                    error=f"approval required: {what} needs the user's approval",
                )
            decision = "approved"
        try:
            done = source.run(tool, checked, on_progress)
        except LocalWorkError as error:
            result = self._finish(name, arguments, decision, conversation_id, error=error.message)
            result.shown = error.shown if isinstance(error, ToolError) else None
            return result
        except OSError as error:
            log.warning("%s failed: %s", name, error)
            return self._finish(
                name,
                arguments,
                decision,
                conversation_id,
                error=f"{name} failed: {error.strerror or error}",
            )
        return self._finish(name, arguments, decision, conversation_id, done=done)

    def refuse(
        self, name: str, arguments: Any, error: str, conversation_id: str | None
    ) -> ToolResult:
        """Record a call that will not run (e.g. its preview showed it cannot succeed)."""
        return self._finish(name, arguments, "refused", conversation_id, error=error)

    def _finish(
        self,
        name: str,
        arguments: Any,
        decision: Decision,
        conversation_id: str | None,
        *,
        done: SourceRun | None = None,
        error: str | None = None,
    ) -> ToolResult:
        output = done.output if done else {}
        result = ToolResult(tool=name, ok=error is None, output=output, error=error)
        result.shown = done.shown if done else None
        recorded = arguments if isinstance(arguments, dict) else {"raw": repr(arguments)[:2000]}
        changes = done.changes if done and result.ok else []
        known = self._tools.get(name)
        result.audit_id = self._audit.record(
            runs_on=known.runs_on if known else None,
            conversation_id=conversation_id,
            tool=name,
            arguments=recorded,
            decision=decision,
            ok=result.ok,
            summary=error or plain_summary(name, output),
            hashes=done.hashes if done and result.ok else {},
            changes=changes,
        )
        return result
