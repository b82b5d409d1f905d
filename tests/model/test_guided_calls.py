"""Grammar-guided tool calls with the real SmolLM2: always well-formed and valid.

Which tool a 135M model picks, and how well it copies a path, is model behaviour: the agent
loop (issue 6) feeds sandbox errors back so it can correct itself; that is tested there.
"""

import pytest

from localwork.engine.toolcalls import answer_grammar, call_grammar, parse_reply
from localwork.tools.files import FILE_TOOLS
from tests.model.test_engine import SAMPLING

TOOL_LIST = "\n".join(f"- {tool.name}: {tool.description}" for tool in FILE_TOOLS.values())
SYSTEM = (
    "You help with the user's files. Tools:\n" + TOOL_LIST + "\nTo call a tool write "
    '<tool_call>{"name": ..., "arguments": {...}}</tool_call>.'
)


def guided_call(app, request):
    loaded = app.runtime.ensure_ready()
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}]
    prompt = loaded.template.render(messages) + "<tool_call>\n"
    pieces = []
    result = app.runtime.generate(
        prompt, 160, SAMPLING, pieces.append, grammar=call_grammar(FILE_TOOLS)
    )
    assert result["stop_reason"] == "eos"  # the grammar closed the call by itself
    (call,) = parse_reply("<tool_call>" + "".join(pieces) + "</tool_call>").calls
    return call


@pytest.mark.parametrize(
    "request_text",
    ["List the files in my folder.", "Read the file notes.txt", "Create a folder called 2026"],
)
def test_guided_calls_are_well_formed_and_valid(start_app, request_text):
    call = guided_call(start_app(), request_text)
    assert call.problem is None
    assert call.name in FILE_TOOLS
    FILE_TOOLS[call.name].arguments.model_validate(call.arguments)


def test_scoring_rates_continuations_and_leaves_generation_as_it_was(start_app):
    app = start_app()
    loaded = app.runtime.ensure_ready()
    assert loaded.can_score
    prompt = loaded.template.render([{"role": "user", "content": "Say hello."}])
    first: list[str] = []
    app.runtime.generate(prompt, 16, SAMPLING, first.append)
    scores = app.runtime.score(prompt + '<tool_call>\n{"name": "', ['read_file"', 'delete_file"'])
    assert len(scores) == 2 and all(s is not None and s < 0 for s in scores)
    again: list[str] = []
    app.runtime.generate(prompt, 16, SAMPLING, again.append)
    assert "".join(again) == "".join(first)  # the scoring left no trace in the cache


def test_an_answer_after_results_cannot_start_like_markup(start_app):
    app = start_app()
    loaded = app.runtime.ensure_ready()
    # Primed to imitate the result markup, as SmolLM2 does after a tool result.
    prompt = loaded.template.render(
        [
            {"role": "user", "content": '<tool_response>\n{"a": 1}\n</tool_response>'},
            {"role": "assistant", "content": '<tool_response>\n{"a": 1}\n</tool_response>'},
            {"role": "user", "content": '<tool_response>\n{"b": 2}\n</tool_response>'},
        ]
    )
    pieces: list[str] = []
    result = app.runtime.generate(
        prompt, 24, SAMPLING, pieces.append, grammar=answer_grammar(), grammar_tokens=8
    )
    text = "".join(pieces)
    assert result["completion_tokens"] >= 1
    assert text[:1] not in ("<", "{", "[", " ", "\n") or text.startswith("<tool_call>"), text
