"""Reading tool calls out of a model's reply, in the formats of the catalog's families.

- Hermes / Qwen:  <tool_call>{"name": ..., "arguments": {...}}</tool_call>   (one or more)
- Mistral:        [TOOL_CALLS] [{"name": ..., "arguments": {...}}, ...]
- Llama 3.x:      <|python_tag|>{"name": ..., "parameters": {...}}   or a reply that is just
                  {"name": ..., "parameters": {...}}
- Generic:        a JSON object with "name" and "arguments"/"parameters", bare or in a
                  ```json fence, anywhere in the text (small models wander between formats)

A call that cannot be read becomes a ``ParsedCall`` with a ``problem`` to send back to the
model, never an exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from localwork.tools.base import Tool
from localwork.tools.path_choices import PathChoices

CALL_MARKERS = ("<tool_call>", "[TOOL_CALLS]", "<|python_tag|>")


def call_opener(template_source: str | None) -> str:
    """How this model family starts a call: the first marker its template uses, else Hermes."""
    for marker in CALL_MARKERS:
        if template_source and marker in template_source:
            return marker
    return CALL_MARKERS[0]


_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)
_DECODER = json.JSONDecoder()


_RESPONSE_TAGS = re.compile(r"\s*</?tool_response>\s*")


def without_response_tags(text: str) -> str:
    """A small model imitating the generic format wraps its answer in <tool_response> tags
    (results come from the app, never from the model): drop the tags, keep the words."""
    return _RESPONSE_TAGS.sub("\n", text).strip() if "tool_response>" in text else text


@dataclass(frozen=True)
class ParsedCall:
    name: str | None
    arguments: dict[str, Any] | None
    raw: str
    problem: str | None = None


@dataclass(frozen=True)
class ParsedReply:
    text: str  # what the reply says, without the tool-call markup
    calls: list[ParsedCall]


_FIRST_KEY = re.compile(r'\{\s*(?:"([^"]*)("?))?')
_CALL_KEYS = {"name", "function", "type"}


def could_open_a_call(text: str) -> bool:
    """Whether a reply starting like this may still turn out to be a bare JSON call (so the
    chat should not show it yet). Plain prose, or code in another language, is decided at once."""
    start = text.lstrip()
    if start.startswith("`"):
        fence, newline, rest = start.partition("\n")
        if not newline:
            return "```".startswith(fence[:3]) and fence[3:].strip() in (
                "",
                "j",
                "js",
                "jso",
                "json",
            )
        if fence.strip("`").strip() not in ("", "json"):
            return False
        start = rest.lstrip()
    if not start:
        return True
    if not start.startswith("{"):
        return False
    key = _FIRST_KEY.match(start)
    return key is None or key.group(1) is None or not key.group(2) or key.group(1) in _CALL_KEYS


def parse_reply(reply: str) -> ParsedReply:
    if "<tool_call>" in reply:
        calls = [parse_call(match.group(1)) for match in _HERMES.finditer(reply)]
        return ParsedReply(_HERMES.sub("", reply).strip(), calls)
    if "[TOOL_CALLS]" in reply:
        before, _, payload = reply.partition("[TOOL_CALLS]")
        return ParsedReply(before.strip(), _calls_from_payload(payload))
    if "<|python_tag|>" in reply:
        before, _, payload = reply.partition("<|python_tag|>")
        return ParsedReply(before.strip(), _calls_from_payload(payload))
    return _generic(reply)


def _calls_from_payload(payload: str) -> list[ParsedCall]:
    """One JSON object, a JSON list of them, or objects separated by ';' (Llama 3.1)."""
    text = payload.strip().removesuffix("<|eom_id|>").removesuffix("<|eot_id|>").strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        parts = [part for part in text.split(";") if part.strip()]
        if len(parts) > 1:
            return [parse_call(part) for part in parts]
        return [parse_call(text)]
    items = value if isinstance(value, list) else [value]
    return [_call_from_value(item, json.dumps(item)) for item in items]


def _generic(reply: str) -> ParsedReply:
    calls, spans = [], []
    for fence in _FENCE.finditer(reply):
        call = parse_call(fence.group(1))
        if call.name is not None:
            calls.append(call)
            spans.append(fence.span())
    if not calls:
        index = reply.find("{")
        while index >= 0:
            try:
                value, end = _DECODER.raw_decode(reply, index)
            except json.JSONDecodeError:
                index = reply.find("{", index + 1)
                continue
            if isinstance(value, dict) and _looks_like_call(value):
                calls.append(_call_from_value(value, reply[index:end]))
                spans.append((index, end))
            index = reply.find("{", end)
    text = reply
    for start, end in reversed(spans):
        text = text[:start] + text[end:]
    return ParsedReply(text.strip(), calls)


def _looks_like_call(value: dict[str, Any]) -> bool:
    function = value.get("function")
    inner: dict[str, Any] = function if isinstance(function, dict) else value
    return isinstance(inner.get("name"), str) and ("arguments" in inner or "parameters" in inner)


def parse_call(raw: str) -> ParsedCall:
    """One call written as JSON: ``{"name": ..., "arguments": {...}}`` or a variant of it."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        return ParsedCall(None, None, raw, f"the tool call is not valid JSON ({error.msg})")
    return _call_from_value(value, raw)


def _call_from_value(value: Any, raw: str) -> ParsedCall:
    if isinstance(value, dict) and isinstance(value.get("function"), dict):
        value = value["function"]  # OpenAI style {"type": "function", "function": {...}}
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return ParsedCall(None, None, raw, 'a tool call needs a "name" and "arguments"')
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):  # some models send the arguments as a JSON string
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as error:
            return ParsedCall(
                value["name"], None, raw, f"the arguments are not valid JSON ({error.msg})"
            )
    if not isinstance(arguments, dict):
        return ParsedCall(value["name"], None, raw, "the arguments must be a JSON object")
    return ParsedCall(value["name"], arguments, raw)


def _scalar(prop: dict[str, Any]) -> bool:
    kinds = [prop.get("type"), *(option.get("type") for option in prop.get("anyOf", []))]
    return any(kind in ("integer", "number", "boolean") for kind in kinds)


# String arguments that hold file content may be long; the rest (paths, patterns) are short,
# and a cap stops a small model that loops inside a string.
_LONG_TEXT = {"content", "new_text", "old_text"}
_SHORT_TEXT_MAX = 256


def answer_grammar(calls: bool = True) -> dict[str, Any]:
    """How a reply after tool results may start: with words, or (when ``calls``) with a call
    marker. A small model otherwise imitates the result markup (``<tool_response>{...}``)
    instead of answering; ruling out ``<``, ``{`` and ``[`` as its first character prevents
    that."""
    markers = "".join(f"{json.dumps(marker)} | " for marker in CALL_MARKERS) if calls else ""
    return {"gbnf": f"root ::= {markers}[^<{{\\[ \\t\\n\\r] [^\\x00]*\n"}


def call_grammar(tools: Mapping[str, Tool], choices: PathChoices | None = None) -> dict[str, Any]:
    """The engine's grammar request: only well-formed calls of these tools, name first
    (so the model picks the tool before its arguments)."""
    return {"schema": call_schema(tools, choices), "property_order": ["name", "arguments"]}


def arguments_grammar(
    tool: Tool, choices: PathChoices | None = None, fixed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The grammar request for the arguments object of a call whose tool is already chosen;
    ``fixed`` arguments are written, with only the value given."""
    schema = arguments_schema(tool, choices)
    for argument, value in (fixed or {}).items():
        schema["properties"][argument] = {"enum": [value]}
        if argument not in schema.setdefault("required", []):
            schema["required"].append(argument)
    return {"schema": schema, "property_order": list(schema.get("properties", {}))}


def call_schema(tools: Mapping[str, Tool], choices: PathChoices | None = None) -> dict[str, Any]:
    """A JSON schema that only well-formed calls of these tools satisfy."""
    options = [
        {
            "type": "object",
            "properties": {"name": {"const": name}, "arguments": arguments_schema(tool, choices)},
            "required": ["name", "arguments"],
        }
        for name, tool in sorted(tools.items())
    ]
    return {"anyOf": options}


def arguments_schema(tool: Tool, choices: PathChoices | None = None) -> dict[str, Any]:
    """The tool's parameters, paths limited to ``choices`` and short strings capped."""
    parameters = choices.constrain(tool) if choices else tool.schema()["function"]["parameters"]
    required = set(parameters.get("required", []))
    properties = parameters.get("properties", {})
    for key in [k for k, prop in properties.items() if k not in required and _scalar(prop)]:
        # Optional numbers and switches (a line range, a result cap, an append) keep their
        # defaults: the grammar cannot hold their bounds, and a small model fills them with
        # nonsense. A use that needs one fixes it (engine/local/guided.py).
        del properties[key]
    for key, prop in properties.items():
        if (
            key not in _LONG_TEXT
            and "string" in json.dumps(prop)
            and "maxLength" not in prop
            and "enum" not in prop
        ):
            prop["maxLength"] = _SHORT_TEXT_MAX
    return parameters


class HeldBackText:
    """Streams a turn's text to the screen. When tools are offered, a reply that opens like a
    bare JSON call is held back until it is clear whether it is one (any engine whose calls
    come as text: the local one, a remote server whose tools are prompted)."""

    def __init__(self, publish: Callable[[str], None], watching: bool) -> None:
        self._publish = publish
        self._parts: list[str] = []
        self._sent = 0  # how many of the parts were published
        self._watching = watching

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def add(self, piece: str) -> None:
        self._parts.append(piece)
        if self._watching:
            if could_open_a_call(self.text):
                return
            self._watching = False  # decided: plain text, stream it from here on
        self.flush()

    def take_back(self) -> None:
        """Forget the text so far: it was the model's reasoning after all."""
        self._parts, self._sent = [], 0

    def flush(self) -> None:
        unsent = "".join(self._parts[self._sent :])
        self._sent = len(self._parts)
        if unsent:
            self._publish(unsent)
