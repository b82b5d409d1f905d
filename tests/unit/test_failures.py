"""The words of a failed reply: only advice that can work, Retry only where it can help."""

from localwork.chat.failures import describe_failure
from localwork.errors import ContextOverflow, EngineCrashed, GenerationFailed

QWEN_AT_AUTO = {"state": "ready", "model": {"training_context": 32768, "n_ctx": 8192}}


def test_a_conversation_that_outgrew_the_context_under_the_stop_policy():
    error = ContextOverflow("grown", tokens=9000, n_ctx=8192, room=512, whole_conversation=True)
    failure = describe_failure(error, QWEN_AT_AUTO)
    assert failure["retry"] is False and failure["tokens"] == 9000
    assert failure["advice"] == (
        "Start a new chat, let LocalWork Hero leave out the oldest messages (Settings, Replies), "
        "or raise the context length in Settings (this model takes up to 32,768 tokens)."
    )


def test_a_message_beyond_every_catalog_model_gets_no_model_advice():
    error = ContextOverflow("huge", tokens=500_000, n_ctx=8192, room=512)
    advice = describe_failure(error, QWEN_AT_AUTO)["advice"]
    assert advice == "Shorten the message or send it in parts."


def test_crash_words_follow_what_the_runtime_did():
    crash = EngineCrashed("The model engine crashed (segmentation fault)")
    restarting = describe_failure(crash, {"state": "loading"})
    assert restarting["message"].endswith("the model is restarting.")
    guard = {"state": "error", "error": {"message": "It crashed 3 times; not restarted."}}
    stopped = describe_failure(crash, guard)
    assert stopped["message"] == "It crashed 3 times; not restarted. Your conversation is safe."
    assert "restarting" not in stopped["message"] + stopped["advice"]
    assert describe_failure(GenerationFailed("boom"), {"state": "ready"})["retry"] is True
