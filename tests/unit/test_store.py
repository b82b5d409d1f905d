import pytest

from localwork.conversations.store import ConversationStore, title_from_message
from localwork.errors import NotFound


@pytest.fixture
def store(paths):
    conversation_store = ConversationStore(paths.database_file)
    yield conversation_store
    conversation_store.close()


def test_conversation_lifecycle(store):
    first = store.create_conversation("First")
    second = store.create_conversation("Second")
    store.add_message(first["id"], "user", "hello")
    # The most recently active conversation comes first.
    assert [c["id"] for c in store.list_conversations()] == [first["id"], second["id"]]
    assert store.list_conversations()[0]["message_count"] == 1

    renamed = store.rename_conversation(second["id"], "Renamed")
    assert renamed["title"] == "Renamed"

    store.delete_conversation(first["id"])
    assert [c["id"] for c in store.list_conversations()] == [second["id"]]
    with pytest.raises(NotFound):
        store.messages(first["id"])


def test_messages_keep_order_and_meta(store):
    conversation = store.create_conversation()
    store.add_message(conversation["id"], "user", "one")
    store.add_message(conversation["id"], "assistant", "two", {"stats": {"tokens_per_second": 9.5}})
    messages = store.messages(conversation["id"])
    assert [(m["role"], m["content"]) for m in messages] == [("user", "one"), ("assistant", "two")]
    assert messages[1]["meta"]["stats"]["tokens_per_second"] == 9.5


def test_everything_survives_reopening(paths, store):
    conversation = store.create_conversation("Kept")
    store.add_message(conversation["id"], "user", "still here?")
    store.close()
    reopened = ConversationStore(paths.database_file)
    try:
        assert reopened.get_conversation(conversation["id"])["title"] == "Kept"
        assert reopened.messages(conversation["id"])[0]["content"] == "still here?"
    finally:
        reopened.close()


def test_missing_conversation_errors(store):
    for call in (
        lambda: store.get_conversation("0" * 32),
        lambda: store.rename_conversation("0" * 32, "x"),
        lambda: store.delete_conversation("0" * 32),
        lambda: store.add_message("0" * 32, "user", "x"),
    ):
        with pytest.raises(NotFound, match="does not exist"):
            call()


def test_titles_from_first_message():
    assert title_from_message("  Plan   my\nweek ") == "Plan my week"
    assert len(title_from_message("x" * 500)) == 58
    assert title_from_message("   ") == "New chat"
