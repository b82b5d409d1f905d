"""Writing one tool call so that even a 135M model gets it right by construction.

1. The tool. Where the engine can rate text, the first call of a reply is the tool use
   (``tools/base.Use``) under which the user's request is likeliest: each use's example
   requests are put before the request in turn, and the mean log-likelihood of the request
   after them is that use's score. This "noisy channel" direction (Min et al., "Noisy Channel
   Language Model Prompting for Few-Shot Text Classification", 2022) rates the request, which
   is the same text for every tool, so no tool gains from a short or familiar name. Measured
   with SmolLM2-135M on 24 plain file requests: the tool's name free under a grammar was right
   1-2 times in 10, a few-shot label's calibrated likelihood 12 of 24, the channel score 19 of
   24. Two rules from the request then narrow the tools rated: one that names an existing entry
   means a tool whose first path takes it, and a tool that writes text is rated only when the
   request gives that text. Later calls, made after the model has seen results, name the tool
   under the grammar.
2. The paths, each limited to what fits its role (``tools/path_choices.py``): an existing file
   for a read, a new name for a create; the first such entry the request names, else the
   likeliest whole name (a grammar alone lets a small model commit to the first file whose
   name starts alike).
3. The rest of the arguments: the texts the request gives (``Tool.quoted_arguments``) and what
   the use fixes (an append) held to their values, the others under a grammar built from the
   tool's schema.

Tools whose paths have no possible value (a read with no file to read, a change with no
folder that may change) are not offered at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from localwork.engine.base import TextEngine
from localwork.engine.toolcalls import ParsedCall, arguments_grammar, call_grammar, parse_call
from localwork.tools.base import Tool, Use
from localwork.tools.path_choices import PathChoices

# A path with more possible values than this is written under the grammar instead of scored.
MAX_SCORED_PATHS = 60
MAX_REQUEST_CHARS = 400  # what of a long request is rated: its start says what it wants
_NAME_OPENING = '{"name": "'
T = TypeVar("T")


@dataclass(frozen=True)
class Choice:
    tool: Tool
    use: Use


def use_prompts(use: Use) -> list[str]:
    """The text put before the request for each of the use's examples (or its purpose)."""
    if not use.requests:
        return [f'A request to {use.purpose}:\n"']
    return [f'A request to {use.purpose}, like "{example}":\n"' for example in use.requests]


def likeliest(options: Sequence[T], scores: Sequence[float | None]) -> T | None:
    """The option with the highest score; None when any score is missing (the request was
    cancelled)."""
    if not options or None in scores:
        return None
    return options[max(range(len(options)), key=lambda i: scores[i])]  # type: ignore[arg-type,return-value]


def _texts_fit(tool: Tool, choices: PathChoices) -> bool:
    """Whether the request gives the texts the tool writes (or it writes none)."""
    return not tool.quoted_arguments or len(choices.texts) == len(tool.quoted_arguments)


class GuidedCalls:
    def __init__(self, runtime: TextEngine) -> None:
        self._runtime = runtime

    def write(
        self,
        lead_in: str,
        request: str | None,
        room: int,
        tools: Mapping[str, Tool],
        choices: PathChoices,
        sampling: dict[str, Any],
    ) -> ParsedCall | None:
        """One call after ``lead_in`` (the prompt up to the call marker). ``request``: the
        user's request when the tool is to be chosen by rating it (the engine can score and
        no call was made yet); None to write the name under the grammar. None when
        cancelled."""
        offered = {name: tool for name, tool in tools.items() if choices.fits(tool)} or tools
        if request is None:
            pieces: list[str] = []
            grammar = call_grammar(offered, choices)
            self._runtime.generate(lead_in, room, sampling, pieces.append, grammar=grammar)
            return parse_call("".join(pieces))
        # A request that names an existing entry is about it: the tools that take it as their
        # first path are the ones it can mean ("what does plan.txt say" is not a listing).
        about = {n: t for n, t in offered.items() if choices.takes_first_named(t)} or offered
        # Text is written only when the request gives it: a small model's own is invented.
        given = {n: t for n, t in about.items() if _texts_fit(t, choices)} or about
        chosen = self.choose(request, given)
        if chosen is None:
            return None
        return self._arguments(lead_in, room, chosen, choices, sampling)

    def choose(self, request: str, tools: Mapping[str, Tool]) -> Choice | None:
        """The tool and use the request is likeliest under (see the module's note)."""
        candidates = [
            Choice(tool, use) for _, tool in sorted(tools.items()) for use in tool.all_uses()
        ]
        if len(candidates) == 1:
            return candidates[0]
        asked = json.dumps(request.strip()[:MAX_REQUEST_CHARS])[1:]  # with its closing quote
        scores: list[float | None] = []
        for candidate in candidates:
            each = [
                self._runtime.score(prompt, [asked])[0] for prompt in use_prompts(candidate.use)
            ]
            scores.append(None if None in each else sum(each) / len(each))  # type: ignore[arg-type]
        return likeliest(candidates, scores)

    def _pick_path(self, lead_in: str, prefix: str, options: list[str]) -> str | None:
        """The option likeliest after ``prefix``, by its own likelihood: copying a name from the
        request is what even a small model does well."""
        if len(options) == 1:
            return options[0]
        endings = [json.dumps(option)[1:] for option in options]  # with the closing quote
        return likeliest(options, self._runtime.score(lead_in + prefix, endings))

    def _arguments(
        self,
        lead_in: str,
        room: int,
        chosen: Choice,
        choices: PathChoices,
        sampling: dict[str, Any],
    ) -> ParsedCall | None:
        """The arguments: what the use fixes, then each path chosen in turn among its possible
        values (when there are few enough to score), the rest under the grammar."""
        tool = chosen.tool
        head = f'{_NAME_OPENING}{tool.name}", "arguments": '
        fixed: dict[str, Any] = {}
        first_path: str | None = None
        for argument, role in tool.path_roles.items():
            options = choices.narrowed(role, first_path)
            if not options or len(options) > MAX_SCORED_PATHS:
                continue
            written = "".join(f"{json.dumps(k)}: {json.dumps(v)}, " for k, v in fixed.items())
            prefix = f'{head}{{{written}{json.dumps(argument)}: "'
            picked = self._pick_path(lead_in, prefix, options)
            if picked is None:
                return None
            fixed[argument] = picked
            first_path = first_path or picked
        if tool.quoted_arguments and _texts_fit(tool, choices):
            fixed.update(zip(tool.quoted_arguments, choices.texts, strict=True))
        fixed.update(chosen.use.arguments)
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
