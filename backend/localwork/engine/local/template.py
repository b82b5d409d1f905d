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
from localwork.models.prompt_formats import CHATML, FORMATS, PromptFormat, stops_in


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _strftime_now(format_string: str) -> str:
    return datetime.now().strftime(format_string)


class ChatTemplate:
    """The model's own template when ``prompt_format`` is "model" and it has one, else one of
    the built-in formats (ChatML when none is named)."""

    def __init__(
        self,
        source: str | None,
        bos_token: str = "",
        eos_token: str = "",
        prompt_format: str = "model",
    ) -> None:
        environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        environment.globals.update(raise_exception=_raise_exception, strftime_now=_strftime_now)
        environment.filters["tojson"] = _tojson
        if prompt_format != "model" or not source:
            source = None
        self.source = source
        self.is_model_template = bool(source)
        chosen = None if source else FORMATS.get(prompt_format, CHATML)
        self.format: PromptFormat | None = chosen
        self.format_name = chosen.name if chosen else "model"
        # Templates written for tool use read a ``tools`` variable (Qwen, Llama 3.x, Mistral).
        self.supports_tools = bool(source) and "tools" in (source or "")
        # Where a reply ends besides the model's end-of-generation tokens: the template's end
        # marker in text form, for a model that writes it as text rather than as its token.
        self.stops = list(chosen.stops) if chosen else stops_in(source or "", eos_token)
        try:
            self._template = environment.from_string(chosen.template if chosen else source or "")
        except TemplateError as error:
            raise ModelError(f"This model's chat template is invalid: {error}") from None
        self.bos_token = bos_token
        self.eos_token = eos_token

    def render(
        self,
        messages: list[dict[str, Any]],
        add_generation_prompt: bool = True,
        tools: list[dict[str, Any]] | None = None,
    ) -> str:
        """Raises: ModelError: the template failed on these messages."""
        if self.format and not self.format.system_role:
            messages = _system_in_first_turn(messages)
        try:
            return self._template.render(
                messages=messages,
                tools=tools,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except TemplateError as error:
            raise ModelError(f"This model's chat template failed: {error}") from None


def _system_in_first_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For formats without a system role: the system text opens the first user turn."""
    if not messages or messages[0]["role"] != "system":
        return messages
    system, rest = messages[0]["content"], messages[1:]
    if rest and rest[0]["role"] == "user":
        return [{**rest[0], "content": f"{system}\n\n{rest[0]['content']}"}, *rest[1:]]
    return [{"role": "user", "content": system}, *rest]
