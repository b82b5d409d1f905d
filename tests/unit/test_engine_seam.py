"""The engine seam (``engine/base.py``): the runtime is an ``Engine`` method by method, and
the chat layer knows engines only through it."""

from __future__ import annotations

import ast
from pathlib import Path

from localwork.engine.base import Engine
from localwork.engine.local.runtime import ModelRuntime
from tests.support.protocols import mismatched_methods, protocol_methods

CHAT = Path(__file__).resolve().parents[2] / "backend" / "localwork" / "chat"


def test_the_protocol_is_what_the_chat_layer_calls():
    assert protocol_methods(Engine) == [
        "cancel",
        "count_tokens",
        "ensure_ready",
        "generate",
        "score",
        "status",
    ]


def test_the_model_runtime_is_an_engine(app):
    engine: Engine = app.runtime  # what a type checker holds it to
    assert isinstance(engine, ModelRuntime) and isinstance(engine, Engine)
    assert mismatched_methods(ModelRuntime, Engine) == []


def test_the_chat_layer_imports_no_engine_but_the_seam():
    imported = {
        (path.name, node.module)
        for path in CHAT.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("localwork.engine")
    }
    # tool_prompt.py still renders the local engine's prompt text with its template; the
    # engines issue's chat-turn seam moves that rendering behind the engine.
    allowed = {("tool_prompt.py", "localwork.engine.local.template")}
    assert imported - allowed and {module for _, module in imported - allowed} == {
        "localwork.engine.base"
    }, imported
