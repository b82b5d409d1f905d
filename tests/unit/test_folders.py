"""Folder grants through the bridge: persisted, immediate, never the app's own data."""

from localwork.bridge import Bridge, dispatch
from localwork.settings import SettingsStore


def call(bridge, method, **params):
    reply = dispatch(bridge, method, params)
    return reply["data"] if reply["ok"] else reply["error"]


def test_grants_are_added_changed_and_revoked(app, tmp_path):
    bridge = Bridge(app)
    folder = tmp_path / "docs"
    folder.mkdir()
    assert call(bridge, "add_grant", path=str(folder), mode="ro") == [
        {"path": str(folder), "mode": "ro", "exists": True}
    ]
    call(bridge, "add_grant", path=str(folder) + "/", mode="rw")  # same folder: mode changes
    assert call(bridge, "list_grants") == [{"path": str(folder), "mode": "rw", "exists": True}]
    assert SettingsStore(app.paths.settings_file).current.grants[0].mode == "rw"
    assert call(bridge, "remove_grant", path=str(folder)) == []
    assert call(bridge, "remove_grant", path=str(folder))["code"] == "not_found"


def test_grants_take_effect_at_the_next_tool_call(app, tmp_path):
    bridge = Bridge(app)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    runner = app.folders.tool_runner()
    assert "no folder has been granted" in runner.run("read_file", {"path": "a.txt"}).error
    call(bridge, "add_grant", path=str(folder), mode="ro")
    assert app.folders.tool_runner().run("read_file", {"path": "a.txt"}).ok
    call(bridge, "remove_grant", path=str(folder))
    assert not app.folders.tool_runner().run("read_file", {"path": "a.txt"}).ok


def test_the_apps_own_folders_cannot_be_granted(app, tmp_path):
    bridge = Bridge(app)
    for folder in (app.paths.data_dir, app.paths.models_dir):
        error = call(bridge, "add_grant", path=str(folder), mode="rw")
        assert "LocalWork Hero's own data" in error["message"]
    missing = call(bridge, "add_grant", path=str(tmp_path / "x"), mode="ro")
    assert missing["message"].startswith(f"cannot grant {tmp_path / 'x'}")


def test_activity_lists_calls_and_undo_restores(app, tmp_path):
    bridge = Bridge(app)
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "a.txt").write_text("original")
    call(bridge, "add_grant", path=str(folder), mode="rw")
    runner = app.folders.tool_runner()
    runner.run("write_file", {"path": "a.txt", "content": "changed"}, approval="approved")
    (latest,) = call(bridge, "list_activity", limit=1)
    assert latest["tool"] == "write_file" and latest["decision"] == "approved"
    (change,) = latest["changes"]
    assert call(bridge, "undo_change", change_id=change["id"])["kind"] == "overwritten"
    assert (folder / "a.txt").read_text() == "original"
    assert call(bridge, "list_activity")[0]["changes"][0]["undone_at"] is not None


def test_there_is_no_folder_dialog_in_the_browser(app):
    assert call(Bridge(app), "choose_folder")["code"] == "invalid_request"


def test_a_reloaded_conversation_marks_the_calls_whose_change_was_undone(app, tmp_path):
    bridge = Bridge(app)
    folder = tmp_path / "docs"
    folder.mkdir()
    call(bridge, "add_grant", path=str(folder), mode="rw")
    conversation = app.store.create_conversation("Files")["id"]
    runner = app.folders.tool_runner()
    made = [
        runner.run(
            "write_file",
            {"path": name, "content": "x"},
            approval="approved",
            conversation_id=conversation,
        )
        for name in ("a.txt", "b.txt")
    ]
    calls = [
        {"id": f"c{n}", "tool": "write_file", "status": "done", "audit_id": result.audit_id}
        for n, result in enumerate(made)
    ]
    app.store.add_message(conversation, "assistant", "Written.", {"tool_calls": calls})
    change = app.folders.activity(10, conversation)[-1]["changes"][0]  # a.txt, the older
    call(bridge, "undo_change", change_id=change["id"])
    shown = call(bridge, "get_conversation", conversation_id=conversation)["messages"]
    assert [c.get("undone", False) for c in shown[0]["meta"]["tool_calls"]] == [True, False]


def test_the_page_learns_the_users_locale(app, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.setenv("LC_TIME", "de_DE.UTF-8")
    assert call(Bridge(app), "app_info")["locale"] == "de-DE"
    monkeypatch.setenv("LC_ALL", "C.UTF-8")  # no locale named: the page keeps its own
    assert call(Bridge(app), "app_info")["locale"] is None
