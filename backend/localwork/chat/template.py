"""Render prompts with the model's own GGUF chat template, in a sandboxed Jinja2.

The template comes from the model file, so it is untrusted code: the immutable sandbox keeps
it from touching Python objects (CVE-2024-34359 was exactly this in llama-cpp-python).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from localwork.errors import ModelError

# Used when a model carries no template: ChatML, which most small instruct models know.
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _strftime_now(format_string: str) -> str:
    return datetime.now().strftime(format_string)


class ChatTemplate:
    def __init__(self, source: str | None, bos_token: str = "", eos_token: str = "") -> None:
        environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        environment.globals.update(raise_exception=_raise_exception, strftime_now=_strftime_now)
        environment.filters["tojson"] = _tojson
        self.source = source
        self.is_model_template = bool(source)
        # Templates written for tool use read a ``tools`` variable (Qwen, Llama 3.x, Mistral).
        self.supports_tools = bool(source) and "tools" in source
        try:
            self._template = environment.from_string(source or CHATML_TEMPLATE)
        except TemplateError as error:
            raise ModelError(f"This model's chat template is invalid: {error}") from None
        self._bos_token = bos_token
        self._eos_token = eos_token

    def render(
        self,
        messages: list[dict[str, Any]],
        add_generation_prompt: bool = True,
        tools: list[dict[str, Any]] | None = None,
    ) -> str:
        """Raises: ModelError: the template failed on these messages."""
        try:
            return self._template.render(
                messages=messages,
                tools=tools,
                add_generation_prompt=add_generation_prompt,
                bos_token=self._bos_token,
                eos_token=self._eos_token,
            )
        except TemplateError as error:
            raise ModelError(f"This model's chat template failed: {error}") from None
