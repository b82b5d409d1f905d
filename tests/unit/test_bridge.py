import inspect
import logging

import pytest

from localwork.conversations.store import ConversationStore
from localwork.transports.bridge import EXPOSED_METHODS, Bridge, WindowApi


@pytest.fixture
def bridge(app):
    return Bridge(app)


def test_method_list_is_explicit():
    assert sorted(EXPOSED_METHODS) == [
        "add_grant",
        "add_server",
        "answer_tool_call",
        "api_log",
        "api_status",
        "app_info",
        "cancel_download",
        "choose_folder",
        "choose_model_file",
        "context_usage",
        "continue_locally",
        "copy_api_key",
        "create_conversation",
        "delete_conversation",
        "delete_preset",
        "dismiss_welcome",
        "edit_message",
        "export_conversation",
        "get_conversation",
        "get_status",
        "import_conversation",
        "import_model",
        "list_activity",
        "list_conversations",
        "list_grants",
        "list_servers",
        "mcp_add_http",
        "mcp_add_stdio",
        "mcp_import",
        "mcp_remove",
        "mcp_restart",
        "mcp_servers",
        "mcp_set_enabled",
        "mcp_set_start",
        "mcp_set_timeout",
        "mcp_set_tool_policy",
        "models_catalog",
        "models_overview",
        "open_link",
        "pause_download",
        "poll_events",
        "preview_profile",
        "probe_server",
        "regenerate_api_key",
        "regenerate_reply",
        "remove_grant",
        "remove_model",
        "remove_server",
        "remove_server_model",
        "rename_conversation",
        "repo_files",
        "restart_model",
        "restore_conversation",
        "resume_download",
        "retry_reply",
        "save_conversation",
        "save_preset",
        "save_profile",
        "search_conversations",
        "select_model",
        "select_server_model",
        "send_message",
        "server_models",
        "set_api_enabled",
        "set_api_lan",
        "set_api_origins",
        "set_api_port",
        "set_hub_token",
        "set_prompt_format",
        "set_server_model",
        "set_tool_mode",
        "settings_pane",
        "start_download",
        "stop_generation",
        "test_server_tools",
        "undo_change",
        "update_server",
    ]


def test_pywebview_sees_only_one_method(bridge):
    # pywebview exposes every public attribute recursively; nothing but `call` may be public.
    api = WindowApi(bridge)
    public = [name for name in dir(api) if not name.startswith("_")]
    assert public == ["call"]
    assert all(name.startswith("_") for name in vars(bridge))


def test_ok_and_error_envelopes(bridge):
    created = bridge.dispatch("create_conversation", {})
    assert created["ok"] and len(created["data"]["id"]) == 32
    missing = bridge.dispatch("get_conversation", {"conversation_id": "0" * 32})
    assert missing == {
        "ok": False,
        "error": {"code": "not_found", "message": missing["error"]["message"]},
    }


@pytest.mark.parametrize(
    ("method", "params", "fragment"),
    [
        ("no_such_method", {}, "Unknown bridge method"),
        ("_app", {}, "Unknown bridge method"),
        ("__init__", {}, "Unknown bridge method"),
        ("list_conversations", [1, 2], "must be a JSON object"),
        ("get_conversation", {"conversation_id": "../../etc"}, "conversation_id"),
        ("get_conversation", {}, "conversation_id"),
        ("rename_conversation", {"conversation_id": "a" * 32, "title": "   "}, "title"),
        ("poll_events", {"after": -1}, "after"),
        ("poll_events", {"timeout": 600}, "timeout"),
        ("list_conversations", {"surprise": 1}, "surprise"),
        ("send_message", {"conversation_id": None, "text": 5}, "text"),
        ("undo_change", {"change_id": 10**20}, "change_id"),  # issue 16 #6: was internal
        ("undo_change", {"change_id": 0}, "change_id"),
    ],
)
def test_every_call_is_validated(bridge, method, params, fragment):
    reply = bridge.dispatch(method, params)
    assert reply["ok"] is False
    assert reply["error"]["code"] == "invalid_request"
    assert fragment in reply["error"]["message"]


def test_empty_message_is_refused_and_nothing_is_stored(bridge, app):
    reply = bridge.dispatch("send_message", {"conversation_id": None, "text": "  \n "})
    assert reply["error"] == {
        "code": "invalid_request",
        "message": "The message is empty: type something first.",
    }
    assert app.store.list_conversations() == []


def test_unexpected_errors_hide_the_traceback_and_log_it(bridge, app, monkeypatch, caplog):
    def explode(self):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(ConversationStore, "list_conversations", explode)
    with caplog.at_level(logging.ERROR):
        reply = bridge.dispatch("list_conversations", {})
    assert reply["error"]["code"] == "internal"
    assert "secret internal detail" not in reply["error"]["message"]
    assert str(app.paths.log_file) in reply["error"]["message"]
    assert "secret internal detail" in caplog.text


def test_first_call_marks_the_frontend_connected(bridge, app):
    assert not app.frontend_connected.is_set()
    bridge.dispatch("app_info", {})
    assert app.frontend_connected.is_set()


def test_bridge_methods_have_docstring_free_signatures_with_types():
    for name in EXPOSED_METHODS:
        signature = inspect.signature(getattr(Bridge, name))
        for parameter in list(signature.parameters.values())[1:]:
            assert parameter.annotation is not inspect.Parameter.empty, (name, parameter.name)
