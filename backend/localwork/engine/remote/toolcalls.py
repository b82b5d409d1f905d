"""Tool-call deltas from a chat stream, put together into whole calls.

OpenAI streams each call as deltas keyed by ``index``: the first has its ``id`` and name,
the rest pieces of its arguments' JSON text. Servers differ, and each rule here is one seen
in the wild:

- no ``index`` (some servers): a delta belongs to the call before it, unless it brings a
  new ``id``, or a name while the call before already has a name and either another one or
  whole arguments;
- ``"name": ""`` or ``"id": ""`` in argument deltas: empty means "not given", never a rename;
- the whole arguments in one delta (Ollama), or as a JSON object instead of text;
- several calls in one message, each with its own index;
- the same index reused with a new ``id`` (a new call that forgot to count);
- no ``id`` at all: one is made up (``call_1``...), since a tool answer must name its call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from localwork.engine.remote.request import MessageToolCall


@dataclass(frozen=True)
class ToolCall:
    """A whole call. ``arguments`` is the JSON text as the model wrote it (an empty text is
    ``"{}"``); ``parsed_arguments`` is it parsed, None when it is not a JSON object (the
    agent loop tells the model so)."""

    id: str
    name: str
    arguments: str
    parsed_arguments: dict[str, Any] | None

    def to_message(self) -> MessageToolCall:
        """The call as it goes back in the assistant message of the conversation."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def has_whole_arguments(self) -> bool:
        return _as_object("".join(self.arguments)) is not None


class ToolCallAssembler:
    def __init__(self) -> None:
        self._calls: list[_PartialCall] = []
        self._by_index: dict[int, _PartialCall] = {}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(self, delta: object) -> bool:
        """Take one entry of a delta's ``tool_calls``; False when it is not a tool-call
        delta at all (not an object)."""
        if not isinstance(delta, dict):
            return False
        function = delta.get("function")
        function = function if isinstance(function, dict) else {}
        call_id = _text(delta.get("id"))
        name = _text(function.get("name"))
        call = self._call_for(delta.get("index"), call_id, name)
        call.id = call.id or call_id
        call.name = call.name or name
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # an object where text belongs
            call.arguments.append(json.dumps(arguments, ensure_ascii=False))
        elif isinstance(arguments, str):
            call.arguments.append(arguments)
        return True

    def calls(self) -> list[ToolCall]:
        whole = []
        for number, call in enumerate(self._calls, start=1):
            arguments = "".join(call.arguments).strip() or "{}"
            whole.append(
                ToolCall(
                    id=call.id or f"call_{number}",
                    name=call.name,
                    arguments=arguments,
                    parsed_arguments=_as_object(arguments),
                )
            )
        return whole

    def _call_for(self, index: object, call_id: str, name: str) -> _PartialCall:
        if isinstance(index, int) and not isinstance(index, bool):
            known = self._by_index.get(index)
            if known is not None and not (call_id and known.id and call_id != known.id):
                return known
            call = self._start()
            self._by_index[index] = call
            return call
        last = self._calls[-1] if self._calls else None
        if last is None or _starts_another(last, call_id, name):
            return self._start()
        return last

    def _start(self) -> _PartialCall:
        call = _PartialCall()
        self._calls.append(call)
        return call


def _starts_another(last: _PartialCall, call_id: str, name: str) -> bool:
    """Whether a delta without ``index`` begins a new call rather than continuing ``last``."""
    if call_id and last.id and call_id != last.id:
        return True
    return bool(name and last.name and (name != last.name or last.has_whole_arguments()))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _as_object(arguments: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
