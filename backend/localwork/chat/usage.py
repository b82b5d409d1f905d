"""How much of the model's context a conversation fills, for the status line's meter."""

from __future__ import annotations

from typing import Any

from localwork.chat.turns import prompt_turns
from localwork.conversations.store import ConversationStore
from localwork.engine.base import ChatEngine
from localwork.settings import SettingsStore


def context_usage(
    store: ConversationStore, engine: ChatEngine, settings: SettingsStore, conversation_id: str
) -> dict[str, Any]:
    """``{"tokens": n}``: the last reply's own count when it is the newest message (what the
    context held), otherwise the conversation counted as the next prompt would hold it, e.g.
    after a message that did not fit, or for an imported conversation (by the engine: exact
    for the local one, estimated for a server's).

    Raises:
        NotFound: the conversation does not exist.
        EngineNotReady: it has to be counted and no model is loaded.
    """
    messages = store.messages(conversation_id)
    if not messages:
        return {"tokens": 0}
    last = messages[-1]
    stats = last["meta"].get("stats") or {}
    if last["role"] == "assistant" and not last["meta"].get("error"):
        prompt, written = stats.get("prompt_tokens"), stats.get("completion_tokens") or 0
        if isinstance(prompt, int) and isinstance(written, int):
            return {"tokens": prompt + written}
    ready = engine.ready()
    system = settings.current.profile_for(ready.model_id).generation.system_prompt.strip()
    turns = [{"role": "system", "content": system}] if system else []
    return {"tokens": engine.count_conversation(turns + prompt_turns(messages))}
