import pytest

from localwork.engine.local.template import ChatTemplate
from localwork.errors import ModelError
from localwork.models.gguf import read_gguf
from localwork.models.registry import bundled_model_path

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
]


def test_chatml_fallback_when_model_has_no_template():
    template = ChatTemplate(None)
    assert not template.is_model_template
    assert template.render(MESSAGES) == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_bundled_models_own_template_is_used():
    info = read_gguf(bundled_model_path())
    template = ChatTemplate(info.chat_template, "<|im_start|>", "<|im_end|>")
    rendered = template.render(MESSAGES)
    assert template.is_model_template
    assert "<|im_start|>user\nHi<|im_end|>" in rendered
    assert rendered.endswith("<|im_start|>assistant\n")


def test_template_cannot_reach_python_internals():
    hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(ModelError, match="template failed"):
        ChatTemplate(hostile).render(MESSAGES)


def test_raise_exception_in_template_becomes_a_model_error():
    template = ChatTemplate("{{ raise_exception('roles must alternate') }}")
    with pytest.raises(ModelError, match="roles must alternate"):
        template.render(MESSAGES)


def test_broken_template_syntax():
    with pytest.raises(ModelError, match="invalid"):
        ChatTemplate("{% for %}")
