"""Prompt formats for GGUFs without a chat template: chosen from metadata, rendered, ended."""

from pathlib import Path

import pytest

from localwork.engine.local.template import ChatTemplate
from localwork.engine.local.tool_prompt import render_with_tools
from localwork.errors import SettingsError
from localwork.models.gguf import read_gguf
from localwork.models.prompt_formats import FORMATS, choices
from localwork.models.registry import bundled_model_path
from localwork.settings import FolderGrant, SettingsStore
from tests.support.gguf_files import edited_copy, header_only

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
]
OPENERS = {
    "chatml": "<|im_start|>assistant\n",
    "llama3": "<|start_header_id|>assistant<|end_header_id|>\n\n",
    "gemma": "<start_of_turn>model\n",
    "mistral": "Hi [/INST]",
    "plain": "Assistant:",
}
GEMMA_VOCAB = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", "hello"]
LLAMA3_VOCAB = ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]


def gemma(tmp_path: Path, **metadata) -> Path:
    """A Gemma 3 header as its GGUFs have it, without tokenizer.chat_template."""
    return header_only(tmp_path / "gemma.gguf", "gemma3", metadata, GEMMA_VOCAB)


def test_a_base_gemma_without_template_defaults_to_plain_completion(tmp_path):
    info = read_gguf(gemma(tmp_path, **{"general.name": "Gemma 3 270m"}))
    assert info.chat_template is None
    assert info.vocab_markers == {"<start_of_turn>"}
    assert info.default_prompt_format == "plain"


@pytest.mark.parametrize(
    ("architecture", "vocab", "metadata", "expected"),
    [
        ("gemma3", GEMMA_VOCAB, {"general.finetune": "it"}, "gemma"),
        ("llama", LLAMA3_VOCAB, {"general.name": "Llama 3.2 1B Instruct"}, "llama3"),
        (
            "llama",
            ["<s>", "</s>", "[INST]", "[/INST]"],
            {"general.name": "Mistral Chat"},
            "mistral",
        ),
        ("qwen2", ["<|im_start|>", "<|im_end|>"], {"general.finetune": "Instruct"}, "chatml"),
        ("gemma2", ["<eos>"], {"general.name": "Gemma 2 2b It"}, "gemma"),
        ("phi3", ["<s>"], {"general.name": "Phi 3 Mini Instruct"}, "chatml"),
        ("qwen2", ["<|im_start|>"], {"general.name": "Qwen2.5 0.5B"}, "plain"),
    ],
)
def test_a_chat_tuned_model_without_template_gets_the_format_of_its_vocabulary(
    tmp_path, architecture, vocab, metadata, expected
):
    path = header_only(tmp_path / "m.gguf", architecture, metadata, vocab)
    assert read_gguf(path).default_prompt_format == expected


def test_a_model_with_a_template_uses_its_own_and_ends_at_its_markers():
    info = read_gguf(bundled_model_path())
    assert info.default_prompt_format == "model"
    template = ChatTemplate(info.chat_template, "<|im_start|>", "<|im_end|>", "model")
    assert template.format_name == "model"
    assert "<|im_end|>" in template.stops and "<|im_start|>" in template.stops


def test_the_stripped_bundled_model_reads_as_a_base_model(tmp_path):
    copy = edited_copy(bundled_model_path(), tmp_path / "s.gguf", drop=("tokenizer.chat_template",))
    info = read_gguf(copy)
    assert info.chat_template is None and info.default_prompt_format == "plain"
    assert info.tensor_count == read_gguf(bundled_model_path()).tensor_count
    named = edited_copy(copy, tmp_path / "i.gguf", replace={"general.finetune": "Instruct"})
    assert read_gguf(named).default_prompt_format == "chatml"


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_renders_a_turn_and_knows_where_a_reply_ends(name):
    template = ChatTemplate(None, "<bos>", "<eos>", name)
    rendered = template.render(MESSAGES)
    assert "Be brief." in rendered and "Hi" in rendered
    assert template.stops and not template.is_model_template
    assert rendered.endswith(OPENERS[name])  # the assistant writes next


def test_plain_completion_is_a_transcript_without_special_tokens():
    template = ChatTemplate(None, prompt_format="plain")
    history = [
        *MESSAGES,
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "2+2?"},
    ]
    assert template.render(history) == (
        "Be brief.\n\nUser: Hi\n\nAssistant: Hello.\n\nUser: 2+2?\n\nAssistant:"
    )
    assert "\nUser:" in template.stops


def test_gemma_puts_the_system_text_in_the_first_user_turn():
    rendered = ChatTemplate(None, "<bos>", prompt_format="gemma").render(MESSAGES)
    assert rendered == (
        "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n"
    )


def test_a_model_without_template_cannot_use_its_own_one():
    assert ChatTemplate(None, prompt_format="model").format_name == "chatml"
    assert [c["name"] for c in choices(False)] == ["chatml", "llama3", "gemma", "mistral", "plain"]
    assert choices(True)[0]["name"] == "model"


def test_tools_with_plain_completion_are_text_turns(tmp_path):
    template = ChatTemplate(None, prompt_format="plain")
    tool = {
        "type": "function",
        "function": {
            "name": "list_directory",
            "description": "List a folder.",
            "parameters": {"properties": {"path": {"type": "string"}}, "required": ["path"]},
        },
    }
    history = [
        {"role": "user", "content": "What is here?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "list_directory", "arguments": {"path": "."}},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "name": "list_directory", "content": "a.txt"},
    ]
    prompt = render_with_tools(template, history, [tool], [FolderGrant(path=str(tmp_path))])
    assert "<tool_call>" in prompt and "- list_directory(path)" in prompt
    assert "User: <tool_response>\na.txt\n</tool_response>" in prompt
    assert prompt.endswith("Assistant:") and "<|im_start|>" not in prompt


def test_settings_accept_only_known_formats(tmp_path):
    store = SettingsStore(tmp_path / "settings.json")
    store.update({"prompt_formats": {"local/a.gguf": "gemma"}})
    assert SettingsStore(tmp_path / "settings.json").current.prompt_formats == {
        "local/a.gguf": "gemma"
    }
    with pytest.raises(SettingsError):
        store.update({"prompt_formats": {"local/a.gguf": "vicuna"}})
