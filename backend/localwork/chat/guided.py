"""Writing one tool call so that even a 135M model gets it right by construction.

1. The tool. Where the engine can rate continuations, each tool's name is scored by the
   model's own likelihood after the call's opening, minus its score after a content-free
   request ("N/A"): a small model's raw preference leans towards whatever the prompt's
   examples show, and the content-free score measures exactly that lean (Zhao et al.,
   "Calibrate Before Use", 2021). Measured on ten plain file requests with SmolLM2-135M:
   free choice under a grammar picked the right tool once or twice in 10, raw likelihood 2,
   calibrated likelihood 7. An engine that cannot score writes the name under the grammar.
2. The paths, each limited to what fits its role (``tools/path_choices.py``): an existing file
   for a read, a new name for a create; among those, the likeliest whole name (a grammar
   alone lets a small model commit to the first file whose name starts alike).
3. The rest of the arguments, under a grammar built from the tool's schema.

Tools whose paths have no possible value (a read with no file to read, a change with no
folder that may change) are not offered at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from localwork.chat.toolcalls import ParsedCall, arguments_grammar, call_grammar, parse_call
from localwork.engine.runtime import ModelRuntime
from localwork.tools.base import Tool
from localwork.tools.path_choices import PathChoices

# A path with more possible values than this is written under the grammar instead of scored.
MAX_SCORED_PATHS = 60
NO_REQUEST = "N/A"  # the content-free request that measures the model's bias
_NAME_OPENING = '{"name": "'


def best_calibrated(
    names: list[str], scores: list[float | None], baseline: list[float | None]
) -> str | None:
    """The name whose score rises most above its content-free baseline; None when any
    score is missing (the request was cancelled)."""
    if not names or None in scores or None in baseline:
        return None
    gains = [s - b for s, b in zip(scores, baseline, strict=True)]  # type: ignore[operator]
    return names[max(range(len(names)), key=gains.__getitem__)]


class GuidedCalls:
    def __init__(self, runtime: ModelRuntime) -> None:
        self._runtime = runtime

    def write(
        self,
        lead_in: str,
        baseline_lead_in: Callable[[], str] | None,
        room: int,
        tools: dict[str, Tool],
        choices: PathChoices,
        sampling: dict[str, Any],
    ) -> ParsedCall | None:
        """One call after ``lead_in`` (the prompt up to the call marker). ``baseline_lead_in``
        gives the same with the request replaced by NO_REQUEST; None when the engine cannot
        score, and the name is then written under the grammar. None when cancelled."""
        offered = {name: tool for name, tool in tools.items() if choices.fits(tool)} or tools
        if baseline_lead_in is None:
            pieces: list[str] = []
            grammar = call_grammar(offered, choices)
            self._runtime.generate(lead_in, room, sampling, pieces.append, grammar=grammar)
            return parse_call("".join(pieces))
        baseline = baseline_lead_in()
        names = sorted(offered)
        chosen = self._pick(lead_in, baseline, _NAME_OPENING, names, [f'{n}"' for n in names])
        if chosen is None:
            return None
        return self._arguments(lead_in, room, offered[chosen], choices, sampling)

    def _pick(
        self,
        lead_in: str,
        baseline: str | None,
        prefix: str,
        options: list[str],
        endings: list[str],
    ) -> str | None:
        """The option whose ending is likeliest after ``prefix``: by its gain over the
        ``baseline`` prompt's score when one is given, else by its own score."""
        if len(options) == 1:
            return options[0]
        scores = self._runtime.score(lead_in + prefix, endings)
        if baseline is None:
            return best_calibrated(options, scores, [0.0] * len(options))
        return best_calibrated(options, scores, self._runtime.score(baseline + prefix, endings))

    def _arguments(
        self,
        lead_in: str,
        room: int,
        tool: Tool,
        choices: PathChoices,
        sampling: dict[str, Any],
    ) -> ParsedCall | None:
        """The arguments: each path chosen in turn by calibrated likelihood among its
        possible values (when there are few enough to score), the rest under the grammar."""
        head = f'{_NAME_OPENING}{tool.name}", "arguments": '
        fixed: dict[str, str] = {}
        for argument, role in tool.path_roles.items():
            options = choices.for_role(role)
            if not options or len(options) > MAX_SCORED_PATHS:
                continue
            written = "".join(f"{json.dumps(k)}: {json.dumps(v)}, " for k, v in fixed.items())
            prefix = f'{head}{{{written}{json.dumps(argument)}: "'
            endings = [json.dumps(option)[1:] for option in options]  # with the closing quote
            # Paths by their own likelihood: copying a name from the request is what even a
            # small model does well, and a content-free baseline would favour long names.
            picked = self._pick(lead_in, None, prefix, options, endings)
            if picked is None:
                return None
            fixed[argument] = picked
        pieces: list[str] = []
        grammar = arguments_grammar(tool, choices, fixed)
        self._runtime.generate(lead_in + head, room, sampling, pieces.append, grammar=grammar)
        written = "".join(pieces)
        try:
            arguments = json.loads(written)
        except json.JSONDecodeError as error:  # cut off by the token limit
            problem = f"the arguments are not valid JSON ({error.msg})"
            return ParsedCall(tool.name, None, head + written, problem)
        return ParsedCall(tool.name, arguments, head + written + "}")
