"""What a reply's tool calls did, in plain words, from their real results.

A small model's answer after a call is often empty, or only imitates the result markup
(``<tool_response>{...}``, invented JSON). Then the reply says what the tools really did,
instead of nothing or something false.
"""

from __future__ import annotations

from typing import Any

from localwork.engine.toolcalls import parse_reply, without_response_tags
from localwork.tools.summary import plain_summary

_LISTED_NAMES = 12


def says_nothing(text: str) -> bool:
    """Whether an answer is empty or only markup: tags, a call, or a JSON value."""
    words = without_response_tags(text).strip().strip("`").strip()
    if words.startswith("json"):
        words = words[4:].strip()
    if not words or words[0] in "{[":  # a JSON blob, well-formed or not, is no answer
        return True
    parsed = parse_reply(words)
    return bool(parsed.calls) and not parsed.text.strip()


def describe_calls(calls: list[dict[str, Any]]) -> str:
    """One line per call: what it did, or why it did not."""
    return "\n".join(f"- {describe_call(call)}" for call in calls)


def describe_call(call: dict[str, Any]) -> str:
    tool = call.get("tool") or "an unreadable call"
    status = call.get("status")
    if status == "denied":
        return f"You denied {tool}."
    if status == "stopped":
        return f"{tool} was stopped."
    if status != "done" or not isinstance(call.get("result"), dict):
        return f"{tool} did not run: {call.get('error') or 'no result'}"
    result: dict[str, Any] = call["result"]
    describe = _DESCRIPTIONS.get(tool)
    return describe(result) if describe else f"{plain_summary(tool, result)}."


def _listing(result: dict[str, Any]) -> str:
    entries = result.get("entries") or []
    if not entries:
        return f"{result.get('path')} is empty."
    names = [
        f"{entry['name']}/" if entry.get("type") == "folder" else entry["name"]
        for entry in entries[:_LISTED_NAMES]
    ]
    more = f", and {len(entries) - _LISTED_NAMES} more" if len(entries) > _LISTED_NAMES else ""
    return f"{result.get('path')} holds {len(entries)}: {', '.join(names)}{more}."


def _search(result: dict[str, Any]) -> str:
    matches = result.get("matches") or []
    if not matches:
        return "The search found no files."
    shown = ", ".join(match["path"] for match in matches[:_LISTED_NAMES])
    return f"The search found {len(matches)}: {shown}."


# Listings name what they found (the Activity list's summary only counts it).
_DESCRIPTIONS = {"list_directory": _listing, "search_files": _search}
