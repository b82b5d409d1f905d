"""Prompt formats for models whose GGUF carries no chat template, and how one is chosen.

A model without ``tokenizer.chat_template`` is usually a base model; an instruct model's
markers (``<|im_start|>``, ``<start_of_turn>``…) are one token each in its own vocabulary and
plain text in any other, so the wrong format makes a model write markers until the token cap.
The fallback is chosen from the GGUF's metadata; the user can pick another per model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from localwork.errors import InvalidRequest

PromptFormatName = Literal["model", "chatml", "llama3", "gemma", "mistral", "plain"]


@dataclass(frozen=True)
class PromptFormat:
    name: str
    label: str
    template: str
    # A reply ends at any of these: the format's end-of-turn marker, and the start of a turn
    # (a model that skips the end marker still ends its reply where the next turn begins).
    stops: tuple[str, ...]
    # The format has no system role: the system text goes in front of the first user turn.
    system_role: bool = True
    # A vocabulary that holds this marker as a token was trained on this format.
    vocab_marker: str | None = None


CHATML = PromptFormat(
    "chatml",
    "ChatML",
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
    ("<|im_end|>", "<|im_start|>", "<|endoftext|>"),
    vocab_marker="<|im_start|>",
)
LLAMA3 = PromptFormat(
    "llama3",
    "Llama 3",
    "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}"
    "<|end_header_id|>\n\n{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}",
    ("<|eot_id|>", "<|start_header_id|>", "<|end_of_text|>"),
    vocab_marker="<|start_header_id|>",
)
GEMMA = PromptFormat(
    "gemma",
    "Gemma",
    "{{ bos_token }}{% for message in messages %}"
    "<start_of_turn>{{ 'model' if message['role'] == 'assistant' else 'user' }}\n"
    "{{ message['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}",
    ("<end_of_turn>", "<start_of_turn>"),
    system_role=False,
    vocab_marker="<start_of_turn>",
)
MISTRAL = PromptFormat(
    "mistral",
    "Mistral",
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "[INST] {{ message['content'] | trim }} [/INST]"
    "{% else %}{{ message['content'] | trim }}{{ eos_token }}{% endif %}{% endfor %}",
    ("</s>", "[INST]"),
    system_role=False,
    vocab_marker="[INST]",
)
# Plain text a base model can continue: a transcript, no special tokens. Tool calls and
# results are already text turns (tool_prompt's plain turns), so tools work here too.
PLAIN = PromptFormat(
    "plain",
    "Plain completion",
    "{% for message in messages %}{% if message['role'] == 'system' %}"
    "{{ message['content'] }}\n\n{% elif message['role'] == 'user' %}"
    "User: {{ message['content'] }}\n\n{% else %}Assistant: {{ message['content'] }}\n\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}",
    ("\nUser:", "\nAssistant:"),
)

FORMATS: dict[str, PromptFormat] = {f.name: f for f in (CHATML, LLAMA3, GEMMA, MISTRAL, PLAIN)}
# Checked in this order: Llama 3 and Gemma vocabularies may also hold ChatML-like tokens.
_BY_VOCAB = (LLAMA3, GEMMA, CHATML, MISTRAL)
VOCAB_MARKERS = frozenset(f.vocab_marker for f in _BY_VOCAB if f.vocab_marker)
# Words in a model's name that mark a chat-tuned model rather than a base one.
_INSTRUCT = re.compile(r"(?<![a-z])(instruct|chat|it|sft|dpo|rlhf|assistant)(?![a-z])", re.I)


def choices(has_template: bool) -> list[dict[str, str]]:
    """The formats the Models pane offers, the model's own template first when it has one."""
    offered = [{"name": "model", "label": "The model's own template"}] if has_template else []
    return offered + [{"name": f.name, "label": f.label} for f in FORMATS.values()]


def check_choice(name: str, has_template: bool, model_name: str) -> None:
    """Raises: InvalidRequest: "model" for a model without a template, or an unknown name."""
    if name == "model" and not has_template:
        raise InvalidRequest(
            f"{model_name} has no chat template of its own; pick one of: {', '.join(FORMATS)}."
        )
    if name != "model" and name not in FORMATS:
        raise InvalidRequest(f"Unknown prompt format {name!r}; pick one of: {', '.join(FORMATS)}.")


def looks_instruct(metadata: dict[str, Any]) -> bool:
    """Whether the GGUF's names say it was tuned for chat (e.g. "it", "Instruct")."""
    names = (metadata.get(key) for key in ("general.finetune", "general.name", "general.basename"))
    return any(isinstance(name, str) and _INSTRUCT.search(name) for name in names)


def default_format(
    has_template: bool, architecture: str, vocab_markers: frozenset[str], instruct: bool
) -> PromptFormatName:
    """The model's own template if it has one; else a base model gets plain completion and
    a chat-tuned one the format its vocabulary (or, failing that, its architecture) knows."""
    if has_template:
        return "model"
    if not instruct:
        return "plain"
    for candidate in _BY_VOCAB:
        if candidate.vocab_marker in vocab_markers:
            return candidate.name  # type: ignore[return-value]
    return "gemma" if architecture.startswith("gemma") else "chatml"


def stops_in(template_source: str, eos_token: str = "") -> list[str]:
    """End markers for a model's own template: those of every known format it uses, and the
    model's end-of-sequence text."""
    stops = [stop for f in _BY_VOCAB if f.stops[0] in template_source for stop in f.stops]
    if eos_token and eos_token not in stops:
        stops.append(eos_token)
    return stops
