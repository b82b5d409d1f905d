"""Grammar-guided tool calls with the real SmolLM2: well-formed, valid, and runnable."""

import pytest

from localwork.chat.toolcalls import call_grammar, parse_reply
from localwork.sandbox.fs import Sandbox
from localwork.sandbox.grants import Grant
from localwork.tools.audit import AuditLog
from localwork.tools.files import FILE_TOOLS
from localwork.tools.runner import ToolRunner
from tests.model.test_engine import SAMPLING

TOOL_LIST = "\n".join(f"- {tool.name}: {tool.description}" for tool in FILE_TOOLS.values())
SYSTEM = (
    "You help with the user's files. Tools:\n" + TOOL_LIST + "\nTo call a tool write "
    '<tool_call>{"name": ..., "arguments": {...}}</tool_call>.'
)


def guided_call(app, request):
    loaded = app.runtime.ensure_ready()
    prompt = (
        loaded.template.render(
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}]
        )
        + "<tool_call>\n"
    )
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


def test_a_guided_listing_runs_through_the_sandbox(start_app, tmp_path):
    home = tmp_path / "home-folder"
    (home / "reports").mkdir(parents=True)
    for name in ("q1.pdf", "q2.pdf", "summary.txt"):
        (home / "reports" / name).write_text(name)
    call = guided_call(start_app(), "List the files in the folder 'reports'.")
    assert call.name == "list_directory"
    audit = AuditLog(tmp_path / "audit.sqlite3")
    try:
        runner = ToolRunner(Sandbox([Grant.of(home, writable=False)]), audit, tmp_path / "b")
        result = runner.run(call.name, call.arguments)
    finally:
        audit.close()
    assert result.ok, result.error
    # Whether the model listed the grant or reports/ inside it, it saw what is on disk.
    names = {entry["name"] for entry in result.output["entries"]}
    assert names in ({"reports"}, {"q1.pdf", "q2.pdf", "summary.txt"})
