"""Regenerate and edit, search, delete with undo, export and import, links, the welcome flag."""

import json
import sqlite3

import pytest

from localwork.app import App, AppOptions
from localwork.conversations.export import FORMAT, parse_import, to_json, to_markdown
from localwork.conversations.store import ConversationStore
from localwork.errors import InvalidRequest, NotFound
from localwork.transports.bridge import Bridge
from localwork.transports.links import check_link, open_in_browser
from tests.support.dialogs import ScriptedDialogs

NESTED = json.loads("[" * 40 + "]" * 40)  # parses fine, but no export is this deep
TOOL_CALL = {"tool": "read_file", "arguments": {"path": "a.txt"}, "status": "ok", "result": "hi"}


@pytest.fixture
def bridge(app):
    return Bridge(app)


def call(bridge, method, **params):
    reply = bridge.dispatch(method, params)
    assert reply["ok"], reply
    return reply["data"]


def error_of(bridge, method, **params):
    reply = bridge.dispatch(method, params)
    assert not reply["ok"], reply
    return reply["error"]


def conversation_with_turns(store, turns=2):
    conversation = store.create_conversation("Turns")
    for n in range(turns):
        store.add_message(conversation["id"], "user", f"question {n}")
        store.add_message(conversation["id"], "assistant", f"answer {n}", {"stats": {"x": n}})
    return conversation["id"]


def test_regenerate_replaces_only_the_last_reply_and_queues_one(app, bridge):
    conversation_id = conversation_with_turns(app.store)
    call(bridge, "regenerate_reply", conversation_id=conversation_id)
    contents = [m["content"] for m in app.store.messages(conversation_id)]
    assert contents == ["question 0", "answer 0", "question 1"]
    assert app.chat.busy_conversations() == [conversation_id]
    # A second request while that reply is queued is refused, and nothing more is deleted.
    assert error_of(bridge, "regenerate_reply", conversation_id=conversation_id)["code"] == (
        "invalid_request"
    )
    assert len(app.store.messages(conversation_id)) == 3


def test_regenerate_needs_a_user_message(app, bridge):
    empty = app.store.create_conversation()["id"]
    assert "no message" in error_of(bridge, "regenerate_reply", conversation_id=empty)["message"]


def test_edit_replaces_the_text_and_drops_later_turns(app, bridge):
    conversation_id = conversation_with_turns(app.store, turns=3)
    second_question = app.store.messages(conversation_id)[2]
    call(
        bridge,
        "edit_message",
        conversation_id=conversation_id,
        message_id=second_question["id"],
        text="question 1, edited",
    )
    messages = app.store.messages(conversation_id)
    assert [m["content"] for m in messages] == ["question 0", "answer 0", "question 1, edited"]
    assert messages[2]["id"] == second_question["id"]
    assert app.chat.busy_conversations() == [conversation_id]


@pytest.mark.parametrize(
    ("pick", "text", "code"),
    [
        (1, "x", "invalid_request"),  # an assistant message
        (None, "x", "not_found"),  # a message of another conversation
        (0, "   ", "invalid_request"),  # empty text
    ],
)
def test_edit_refuses(app, bridge, pick, text, code):
    conversation_id = conversation_with_turns(app.store)
    other = conversation_with_turns(app.store)
    source = app.store.messages(other if pick is None else conversation_id)
    message_id = source[0 if pick is None else pick]["id"]
    error = error_of(
        bridge, "edit_message", conversation_id=conversation_id, message_id=message_id, text=text
    )
    assert error["code"] == code
    assert len(app.store.messages(conversation_id)) == 4


def test_search_by_title_and_content_with_snippets_and_literal_wildcards(app, bridge):
    store = app.store
    by_title = store.create_conversation("Holiday plans")
    by_content = store.create_conversation("Other")
    store.add_message(by_content["id"], "user", "long text " * 10 + "about a HOLIDAY in Rome")
    store.add_message(store.create_conversation("100% done")["id"], "user", "nothing")
    found = call(bridge, "search_conversations", query="holiday")
    assert {c["id"] for c in found} == {by_title["id"], by_content["id"]}
    snippets = {c["id"]: c["snippet"] for c in found}
    assert snippets[by_title["id"]] is None
    assert (
        snippets[by_content["id"]].startswith("…")
        and "HOLIDAY in Rome" in snippets[by_content["id"]]
    )
    # % and _ are literal characters, not wildcards.
    assert [c["title"] for c in call(bridge, "search_conversations", query="0%")] == ["100% done"]
    assert call(bridge, "search_conversations", query="a_b") == []
    assert error_of(bridge, "search_conversations", query="  ")["code"] == "invalid_request"


def test_delete_can_be_undone_in_the_same_session_only(app, bridge, paths):
    conversation_id = conversation_with_turns(app.store)
    call(bridge, "delete_conversation", conversation_id=conversation_id)
    assert call(bridge, "list_conversations") == []
    assert call(bridge, "search_conversations", query="question") == []
    assert (
        error_of(bridge, "get_conversation", conversation_id=conversation_id)["code"] == "not_found"
    )
    restored = call(bridge, "restore_conversation", conversation_id=conversation_id)
    assert restored["id"] == conversation_id
    assert len(call(bridge, "get_conversation", conversation_id=conversation_id)["messages"]) == 4
    assert error_of(bridge, "restore_conversation", conversation_id=conversation_id)["code"] == (
        "not_found"
    )
    # Deleted, then the app restarts: the conversation and its messages are gone for good.
    call(bridge, "delete_conversation", conversation_id=conversation_id)
    app.store.close()
    reopened = ConversationStore(paths.database_file)
    try:
        with pytest.raises(NotFound):
            reopened.restore_conversation(conversation_id)
    finally:
        reopened.close()
    raw = sqlite3.connect(paths.database_file)
    assert raw.execute("SELECT COUNT(*) FROM messages").fetchone() == (0,)
    raw.close()


def test_a_version_1_database_gains_the_deleted_column(paths):
    raw = sqlite3.connect(paths.database_file)
    raw.executescript(
        "CREATE TABLE conversations (id TEXT PRIMARY KEY, title TEXT NOT NULL,"
        " created_at REAL NOT NULL, updated_at REAL NOT NULL);"
        "INSERT INTO conversations VALUES ('" + "a" * 32 + "', 'Old', 1, 1);"
    )
    raw.close()
    store = ConversationStore(paths.database_file)
    try:
        assert [c["title"] for c in store.list_conversations()] == ["Old"]
        store.delete_conversation("a" * 32)
        assert store.list_conversations() == []
    finally:
        store.close()


def test_export_round_trips_through_import_with_meta_as_is(app, bridge):
    conversation_id = conversation_with_turns(app.store)
    app.store.add_message(conversation_id, "assistant", "used a tool", {"tool_calls": [TOOL_CALL]})
    exported = call(bridge, "export_conversation", conversation_id=conversation_id, format="json")
    assert exported["filename"] == "Turns.json" and exported["mime"] == "application/json"
    imported = call(bridge, "import_conversation", data=exported["content"])
    assert imported["id"] != conversation_id and imported["title"] == "Turns (imported)"
    original = app.store.messages(conversation_id)
    copy = app.store.messages(imported["id"])
    fields = ("role", "content", "meta", "created_at")
    assert [{k: m[k] for k in fields} for m in copy] == [
        {k: m[k] for k in fields} for m in original
    ]


def test_an_import_beside_its_original_is_marked_imported(app, bridge):
    original = app.store.create_conversation("Budget")
    document = call(bridge, "export_conversation", conversation_id=original["id"], format="json")
    titles = [call(bridge, "import_conversation", data=document["content"])["title"] for _ in "ab"]
    assert titles == ["Budget (imported)", "Budget (imported 2)"]
    app.store.delete_conversation(original["id"])  # once it is gone, its title is free again
    assert call(bridge, "import_conversation", data=document["content"])["title"] == "Budget"


def test_editing_the_first_message_retitles_an_automatic_title(app, bridge):
    def conversation(title):
        made = app.store.create_conversation(title)["id"]
        first = app.store.add_message(made, "user", "Plan the trip to Rome")["id"]
        app.store.add_message(made, "assistant", "Rome it is.")
        return made, first

    automatic, first = conversation("Plan the trip to Rome")  # as send_message titles it
    call(bridge, "edit_message", conversation_id=automatic, message_id=first, text="Plan Oslo")
    assert app.store.get_conversation(automatic)["title"] == "Plan Oslo"
    chosen, first = conversation("Holidays")  # renamed by the user: theirs stays
    call(bridge, "edit_message", conversation_id=chosen, message_id=first, text="Plan Oslo")
    assert app.store.get_conversation(chosen)["title"] == "Holidays"


def test_markdown_export_has_title_turns_and_tool_calls(app):
    conversation = app.store.create_conversation("Notes: a/b")
    app.store.add_message(conversation["id"], "user", "Hi *there*")
    app.store.add_message(conversation["id"], "assistant", "Hello", {"tool_calls": [TOOL_CALL]})
    text = to_markdown(conversation, app.store.messages(conversation["id"]))
    assert text.startswith("# Notes: a/b\n")
    assert "## You\n\nHi *there*\n\n## Assistant\n\nHello\n\n> Tool `read_file`: ok" in text
    exported = Bridge(app).dispatch(
        "export_conversation",
        {"conversation_id": conversation["id"], "format": "markdown"},
    )
    assert exported["data"]["filename"] == "Notes a b.md"


def valid_document(**changes):
    document = {
        "format": FORMAT,
        "version": 1,
        "title": "Imported",
        "messages": [{"role": "user", "content": "hi", "meta": {}}],
    }
    return json.dumps({**document, **changes})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a LocalWork Hero conversation export"),
        (json.dumps({"format": "other"}), "not a LocalWork Hero conversation export"),
        (valid_document(version=2), "version"),
        (valid_document(title=""), "title"),
        (valid_document(messages=[{"role": "system", "content": "x"}]), "messages.0.role"),
        (valid_document(messages=[{"role": "user", "content": 5}]), "messages.0.content"),
        (valid_document(messages="nope"), "messages"),
        (valid_document(messages=[{"role": "user", "content": "x", "meta": []}]), "meta"),
        (
            valid_document(
                messages=[
                    {"role": "assistant", "content": "x", "meta": {"tool_calls": [{"tool": ""}]}}
                ]
            ),
            "tool_calls.0.tool",
        ),
        (
            valid_document(
                messages=[{"role": "assistant", "content": "x", "meta": {"stopped": "sometimes"}}]
            ),
            "stopped",
        ),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        (
            valid_document(messages=[{"role": "user", "content": "x", "meta": {"a": NESTED}}]),
            "nested too deeply",
        ),
        (valid_document(title="x" * 7_000_000), "too large"),
    ],
)
def test_hostile_or_malformed_imports_get_a_clear_error(text, expected):
    with pytest.raises(InvalidRequest, match=expected):
        parse_import(text)


def test_a_refused_import_leaves_nothing_behind(app, bridge):
    error = error_of(bridge, "import_conversation", data=valid_document(version=9))
    assert error["code"] == "invalid_request" and "damaged" in error["message"]
    assert call(bridge, "list_conversations") == []


def test_json_export_is_the_documented_shape(app):
    conversation = app.store.create_conversation("Shape")
    app.store.add_message(conversation["id"], "user", "hi")
    document = json.loads(to_json(conversation, app.store.messages(conversation["id"])))
    assert document["format"] == FORMAT and document["version"] == 1
    assert set(document["messages"][0]) == {"role", "content", "meta", "created_at"}


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,x",
        "http://",
        "//example.com",
        "https://example.com/a b",
        "https://example.com/\nx",
        "x" * 5000,
        "ftp://example.com",
    ],
)
def test_only_http_links_open(url):
    with pytest.raises(InvalidRequest):
        check_link(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8123/",  # the app's own --serve page, or any local service
        "http://localhost:8888/tree",
        "http://LOCALHOST./",
        "http://app.localhost/",
        "http://127.0.0.2/",
        "http://127.1/",
        "http://0x7f.0.0.1/",
        "http://0177.0.0.1/",
        "http://2130706433/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:5000/",
        "http://[::]/",
    ],
)
def test_links_to_this_computer_are_not_opened(url, monkeypatch):
    """Issue 16 #10: a reply's link to the app's own address went to the system browser."""
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url, new: opened.append(url) or True)
    with pytest.raises(InvalidRequest, match="this computer"):
        open_in_browser(url)
    assert opened == []


@pytest.mark.parametrize(
    "url", ["https://127.example.com/", "http://10.0.0.1/", "http://1.2.3.4:80/", "http://0x7g/"]
)
def test_other_hosts_that_look_numeric_still_open(url):
    assert check_link(url) == url


def test_a_checked_link_goes_to_the_system_browser(monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url, new: opened.append((url, new)) or True)
    assert open_in_browser("https://example.com/?q=1&r=2") is True
    assert opened == [("https://example.com/?q=1&r=2", 2)]


def test_bridge_refuses_a_javascript_link(bridge):
    assert error_of(bridge, "open_link", url="javascript:alert(1)")["code"] == "invalid_request"


def test_welcome_is_shown_until_dismissed(app, bridge):
    assert call(bridge, "app_info")["show_welcome"] is True
    call(bridge, "dismiss_welcome")
    assert call(bridge, "app_info")["show_welcome"] is False
    assert app.settings.current.welcome_seen is True


def test_the_desktop_saves_an_export_where_the_user_chose(app, bridge, tmp_path):
    conversation_id = conversation_with_turns(app.store)
    refused = error_of(bridge, "save_conversation", conversation_id=conversation_id, format="json")
    assert "no Save dialog" in refused["message"]  # --serve: the page downloads instead

    asked = []
    target = tmp_path / "chosen.md"
    dialogs = ScriptedDialogs(save=lambda name: asked.append(name) or str(target))
    desktop = App(app.paths, AppOptions(pickers=dialogs))  # the window's App has the dialogs
    try:
        bridge = Bridge(desktop)
        saved = call(
            bridge, "save_conversation", conversation_id=conversation_id, format="markdown"
        )
        assert saved == {"path": str(target)} and asked == ["Turns.md"]
        assert target.read_text(encoding="utf-8").startswith("# Turns\n")

        dialogs.save = lambda name: None  # cancelled
        assert call(
            bridge, "save_conversation", conversation_id=conversation_id, format="json"
        ) == {"path": None}
    finally:
        desktop.close()
