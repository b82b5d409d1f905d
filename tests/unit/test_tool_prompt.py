"""Tools in prompts: the model's own tool template, and the generic fallback."""

from pathlib import Path

from localwork.chat.turns import call_turn, tool_round_turns
from localwork.engine.local.template import ChatTemplate
from localwork.engine.local.tool_prompt import render_with_tools
from localwork.engine.toolcalls import parse_reply
from localwork.models.gguf import read_gguf
from localwork.models.registry import bundled_model_path
from localwork.settings import FolderGrant
from localwork.tools.files import FILE_TOOLS

TEMPLATES = Path(__file__).parents[1] / "fixtures" / "templates"
TOOLS = [tool.schema() for tool in FILE_TOOLS.values()]
GRANTS = [FolderGrant(path="/home/me/Downloads", mode="rw")]
CONVERSATION = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "What is in Downloads?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [call_turn("call00001", "list_directory", {"path": "."})],
    },
    {
        "role": "tool",
        "tool_call_id": "call00001",
        "name": "list_directory",
        "content": '{"entries": ["a.pdf"]}',
    },
]


def test_a_tool_aware_template_gets_the_tools_natively():
    template = ChatTemplate((TEMPLATES / "qwen2.5.jinja").read_text())
    assert template.supports_tools
    prompt = render_with_tools(template, CONVERSATION, TOOLS, GRANTS)
    assert "# Tools" in prompt and '"name": "read_file"' in prompt
    assert 'You may use only these folders: "/home/me/Downloads" (read and change)' in prompt
    assert '<tool_call>\n{"name": "list_directory", "arguments": {"path": "."}}' in prompt
    assert '<tool_response>\n{"entries": ["a.pdf"]}\n</tool_response>' in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_a_template_without_tools_gets_the_generic_instructions():
    template = ChatTemplate(read_gguf(bundled_model_path()).chat_template)
    assert not template.supports_tools  # SmolLM2-135M's ChatML template
    prompt = render_with_tools(template, CONVERSATION, TOOLS, GRANTS)
    assert "To call a tool, answer with only:" in prompt
    assert "- write_file(path, content, append=false): Create a file" in prompt
    assert '- list_directory(path="."): List the files' in prompt
    assert "<|im_start|>user\n<tool_response>" in prompt
    # The call as the model wrote it can be parsed back.
    assistant_turn = prompt.split("<|im_start|>assistant\n")[1].split("<|im_end|>")[0]
    assert parse_reply(assistant_turn).calls[0].name == "list_directory"


def test_without_grants_the_model_is_told_it_has_no_files():
    template = ChatTemplate(None)
    prompt = render_with_tools(template, CONVERSATION[:2], TOOLS, [])
    assert "No folders are shared with you" in prompt


def test_llama_3_2_gets_the_tools_in_the_first_user_message_and_calls_as_json():
    template = ChatTemplate((TEMPLATES / "llama3.2.jinja").read_text(), "<|begin_of_text|>")
    assert template.supports_tools
    prompt = render_with_tools(template, CONVERSATION, TOOLS, GRANTS)
    assert prompt.startswith("<|begin_of_text|><|start_header_id|>system")
    assert "Environment: ipython" in prompt
    user_turn = prompt.split("<|start_header_id|>user<|end_header_id|>\n\n")[1]
    assert '"name": "list_directory"' in user_turn and user_turn.rstrip().endswith(
        "What is in Downloads?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        '{"name": "list_directory", "parameters": {"path": "."}}<|eot_id|>'
        '<|start_header_id|>ipython<|end_header_id|>\n\n"{\\"entries\\": [\\"a.pdf\\"]}"'
        "<|eot_id|><|start_header_id|>assistant<|end_header_id|>"
    )
    # What the model writes back in that format is read as a call.
    (call,) = parse_reply('{"name": "read_file", "parameters": {"path": "a.txt"}}').calls
    assert (call.name, call.arguments) == ("read_file", {"path": "a.txt"})


def test_a_round_with_several_calls_renders_for_every_family():
    calls = [
        {"id": f"call{n}", "tool": "read_file", "arguments": {"path": f"{n}.txt"}, "result": {}}
        for n in range(2)
    ]
    turns = [CONVERSATION[1], *tool_round_turns("Reading both.", calls, 1000)]
    for template in (
        ChatTemplate((TEMPLATES / "llama3.2.jinja").read_text()),
        ChatTemplate((TEMPLATES / "qwen2.5.jinja").read_text()),
        ChatTemplate(read_gguf(bundled_model_path()).chat_template),
    ):
        prompt = render_with_tools(template, turns, TOOLS, GRANTS)
        assert "0.txt" in prompt and "1.txt" in prompt


def test_the_file_examples_come_only_with_the_file_tools():
    from localwork.engine.tool_text import generic_instructions

    with_files = generic_instructions({tool["function"]["name"] for tool in TOOLS})
    assert "list_directory" in with_files and "the user's files" in with_files
    others = generic_instructions({"get_current_time"})
    assert "list_directory" not in others and "read_file" not in others
    assert "<tool_call>" in others and "<tool_response>" in others
