"""The engine seam (``engine/base.py``): the agent loop takes chat turns from a ``ChatEngine``;
the local engine takes them over the runtime, a ``TextEngine`` method by method; and the chat
layer knows engines only through the seam."""

from __future__ import annotations

import ast
from pathlib import Path

from localwork.engine.base import ChatEngine, TextEngine
from localwork.engine.local.runtime import ModelRuntime
from localwork.engine.local.turns import PromptTextTurns
from tests.support.protocols import mismatched_methods, protocol_methods

CHAT = Path(__file__).resolve().parents[2] / "backend" / "localwork" / "chat"


def test_the_chat_turn_seam_is_five_methods_and_the_local_engine_has_them(app):
    assert protocol_methods(ChatEngine) == [
        "cancel",
        "count_conversation",
        "count_tools",
        "ready",
        "take_turn",
    ]
    local: ChatEngine = PromptTextTurns(app.runtime)
    assert isinstance(local, ChatEngine)
    assert mismatched_methods(PromptTextTurns, ChatEngine) == []


def test_the_text_protocol_is_what_the_local_turns_call():
    assert protocol_methods(TextEngine) == [
        "cancel",
        "count_tokens",
        "ensure_ready",
        "generate",
        "score",
        "status",
    ]


def test_the_model_runtime_is_an_engine(app):
    engine: TextEngine = app.runtime  # what a type checker holds it to
    assert isinstance(engine, ModelRuntime) and isinstance(engine, TextEngine)
    assert mismatched_methods(ModelRuntime, TextEngine) == []


def test_the_chat_layer_imports_no_engine_but_the_seam():
    imported = {
        (path.name, node.module)
        for path in CHAT.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("localwork.engine")
    }
    # The chat layer knows the seam, the engine-neutral call parsing, the room every engine
    # keeps for a reply (``budget.reply_room``: the tool budget checks against it), and the
    # one queue to the engine it shares with the local API (engine/gate.py).
    seam = {
        "localwork.engine.base",
        "localwork.engine.toolcalls",
        "localwork.engine.budget",
        "localwork.engine.gate",
    }
    assert imported and {module for _, module in imported} <= seam, imported
