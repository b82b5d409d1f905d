"""Runs one tool call the way the agent does: validate, approve, run, audit.

The command line (`localwork-hero tool`) and the agent loop both call ``ToolRunner.run``, so
scripts exercise exactly the path the model's calls take.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from localwork.errors import LocalWorkError
from localwork.settings import describe_validation_error
from localwork.tools.approval import Approval, Decision
from localwork.tools.audit import AuditLog
from localwork.tools.base import Tool, ToolResult
from localwork.tools.files import FILE_TOOLS, FileToolContext
from localwork.tools.preview import change_preview
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.summary import plain_summary

log = logging.getLogger(__name__)


class ToolRunner:
    def __init__(
        self,
        sandbox: Sandbox,
        audit: AuditLog,
        backups: Path,
        tools: dict[str, Tool] = FILE_TOOLS,
    ) -> None:
        self._tools = tools
        self._audit = audit
        self._context = FileToolContext(sandbox=sandbox, backups=backups)

    @property
    def backups(self) -> Path:
        return self._context.backups

    @property
    def tools(self) -> dict[str, Tool]:
        return self._tools

    def use_sandbox(self, sandbox: Sandbox) -> None:
        """Apply grants changed since this runner was made (what the model read is kept)."""
        self._context.sandbox = sandbox

    def needs_approval(self, name: str) -> bool:
        tool = self._tools.get(name)
        return bool(tool and tool.changes_files)

    def preview(self, name: str, arguments: Any) -> dict[str, Any]:
        """What a change would do, for the approval card; ``{"error": ...}`` when it cannot
        succeed (unknown tool, bad arguments, text not found, outside the grants)."""
        tool = self._tools.get(name)
        if tool is None:
            return {"error": f"unknown tool {name!r}"}
        try:
            checked = tool.arguments.model_validate(arguments)
            return change_preview(self._context, name, checked)
        except ValidationError as error:
            return {"error": f"invalid arguments: {describe_validation_error(error)}"}
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
    ) -> ToolResult:
        """Run one call. Reads run at once; changes run only when ``approval`` is "approved".

        Never raises for a bad call: the result carries an error the model can act on.
        """
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self._tools))
            return self._finish(
                name,
                arguments,
                "refused",
                conversation_id,
                error=f"unknown tool {name!r}; the tools are: {known}",
            )
        try:
            checked = tool.arguments.model_validate(arguments)
        except ValidationError as error:
            return self._finish(
                name,
                arguments,
                "refused",
                conversation_id,
                error=f"invalid arguments: {describe_validation_error(error)}",
            )
        decision: Decision = "auto"
        if tool.changes_files:
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
                return self._finish(
                    name,
                    arguments,
                    "refused",
                    conversation_id,
                    error="approval required: changing files needs the user's approval",
                )
            decision = "approved"
        # What this call changes is collected afresh; _finish records it only when ok.
        self._context.changes.clear()
        self._context.hashes.clear()
        try:
            output = tool.run(self._context, checked)
        except LocalWorkError as error:
            return self._finish(name, arguments, decision, conversation_id, error=error.message)
        except OSError as error:
            log.warning("%s failed: %s", name, error)
            return self._finish(
                name,
                arguments,
                decision,
                conversation_id,
                error=f"{name} failed: {error.strerror or error}",
            )
        return self._finish(name, arguments, decision, conversation_id, output=output)

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
        output: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> ToolResult:
        result = ToolResult(tool=name, ok=error is None, output=output or {}, error=error)
        recorded = arguments if isinstance(arguments, dict) else {"raw": repr(arguments)[:2000]}
        changes = list(self._context.changes) if result.ok else []
        result.audit_id = self._audit.record(
            conversation_id=conversation_id,
            tool=name,
            arguments=recorded,
            decision=decision,
            ok=result.ok,
            summary=error or plain_summary(name, output or {}),
            hashes=dict(self._context.hashes) if result.ok else {},
            changes=changes,
        )
        return result
