"""``localwork-hero ask``: one turn of the assistant from a script, with the app's own loop.

The answer streams to stdout; each tool call and its result is a readable line between the
answer's parts. Exit 0 when the reply was written, 1 when it failed, 2 for bad usage.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from localwork.app import App
from localwork.errors import LocalWorkError
from localwork.models.registry import InstalledModel, ModelRegistry
from localwork.paths import AppPaths
from localwork.sandbox.owned import checked_grants
from localwork.settings import FolderGrant
from localwork.store import title_from_message

_SHOWN_RESULT_CHARS = 400
_FINISHED = ("done", "failed", "denied", "stopped")


class UsageError(Exception):
    pass


def find_model(registry: ModelRegistry, name: str | None) -> InstalledModel | None:
    """An installed model by id, name or file name (any case); None means the default.

    Raises:
        UsageError: nothing installed matches.
    """
    if name is None:
        return None
    matches = registry.matching(name, ignore_case=True)
    if matches:
        return matches[0]
    known = ", ".join(model.name for model in registry.installed()) or "none"
    raise UsageError(f"no installed model is called {name!r} (installed: {known})")


def session_grants(specs: list[str], paths: AppPaths) -> list[FolderGrant]:
    """Raises: LocalWorkError: a folder does not exist, or it is the app's own data."""
    grants = checked_grants(specs, paths)
    return [FolderGrant(path=str(g.root), mode="rw" if g.writable else "ro") for g in grants]


def check_usage(prompt: str, tools: str, folders: list[FolderGrant]) -> None:
    """Raises: UsageError: nothing to ask, or tools required without a folder to use."""
    if not prompt.strip():
        raise UsageError("the prompt is empty: say what to ask, e.g. ask 'Summarise notes.txt'")
    if tools == "required" and not folders:
        raise UsageError(
            "--tools required needs a folder to work in: add --grant DIR (or DIR:rw to let "
            "the assistant change files there)"
        )


class _Printer:
    """Writes the reply as it streams, with each tool call on lines of its own."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._mid_line = False

    def text(self, piece: str) -> None:
        self._out.write(piece)
        self._out.flush()
        self._mid_line = not piece.endswith("\n")

    def line(self, text: str) -> None:
        if self._mid_line:
            self._out.write("\n")
        self._out.write(text + "\n")
        self._out.flush()
        self._mid_line = False

    def call(self, call: dict[str, Any]) -> None:
        if call["status"] == "running":
            arguments = json.dumps(call["arguments"], ensure_ascii=False)
            self.line(f"[tool] {call['tool']} {arguments}")
        elif call["status"] in _FINISHED:
            detail = call["error"] or json.dumps(call["result"], ensure_ascii=False)
            if len(detail) > _SHOWN_RESULT_CHARS:
                detail = detail[:_SHOWN_RESULT_CHARS] + "…"
            self.line(f"[{call['status']}] {call['tool'] or 'invalid call'}: {detail}")

    def end(self) -> None:
        if self._mid_line:
            self.line("")


def ask(
    paths: AppPaths,
    prompt: str,
    *,
    model: str | None,
    grants: list[str],
    tools: str,
    approve: bool,
    out: TextIO = sys.stdout,
) -> int:
    try:
        folders = session_grants(grants, paths)
        check_usage(prompt, tools, folders)
    except (LocalWorkError, UsageError) as error:
        print(f"localwork-hero ask: {error}", file=sys.stderr)
        return 2
    app = App(paths)
    try:
        try:
            chosen = find_model(app.registry, model)
        except UsageError as error:
            print(f"localwork-hero ask: {error}", file=sys.stderr)
            return 2
        app.folders.session_grants = folders  # for this run only; saved grants are untouched
        app.chat.approvals.policy = "approve" if approve else "refuse"
        app.chat.start()
        app.runtime.load(chosen.id if chosen else app.settings.current.selected_model)
        return _one_turn(app, prompt, tools, _Printer(out))
    except LocalWorkError as error:
        print(f"localwork-hero ask: {error.message}", file=sys.stderr)
        return 1
    finally:
        app.close()


def _one_turn(app: App, prompt: str, tools: str, printer: _Printer) -> int:
    app.runtime.ensure_ready()
    conversation = app.store.create_conversation(title_from_message(prompt))
    app.store.set_tool_mode(conversation["id"], tools)
    after = app.events.last_seq
    job_id = app.chat.send(conversation["id"], prompt)["job_id"]
    try:
        while True:
            for event in app.events.poll(after, timeout=1.0):
                after = event["seq"]
                if event.get("job_id") != job_id:
                    continue
                if event["type"] == "token":
                    printer.text(event["text"])
                elif event["type"] == "tool_call":
                    printer.call(event["call"])
                elif event["type"] == "reply_done":
                    message = event["message"] or {}
                    if message.get("meta", {}).get("answer_from_results"):
                        printer.line(message["content"])  # replaces what the model wrote
                    notice = message.get("meta", {}).get("notice")
                    if notice:
                        printer.line(f"[note] {notice}")
                    printer.end()
                    return 0
                elif event["type"] == "reply_failed":
                    printer.end()
                    error = event["error"]
                    advice = f" {error['advice']}" if error.get("advice") else ""
                    print(f"localwork-hero ask: {error['message']}{advice}", file=sys.stderr)
                    return 1
    except KeyboardInterrupt:
        app.chat.stop(conversation["id"])
        printer.end()
        return 130
