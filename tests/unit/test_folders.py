"""Folder grants through the bridge: persisted, immediate, never the app's own data."""

import logging

from localwork.app import App
from localwork.infra.logs import setup_logging
from localwork.infra.paths import resolve_paths
from localwork.settings import FolderGrant, SettingsStore
from localwork.tools.folders import Folders
from localwork.transports.bridge import Bridge


def call(bridge, method, **params):
    reply = bridge.dispatch(method, params)
    return reply["data"] if reply["ok"] else reply["error"]


def test_grants_are_added_changed_and_revoked(app, tmp_path):
    bridge = Bridge(app)
    folder = tmp_path / "docs"
    folder.mkdir()
    alone = {"exists": True, "inside": None, "depth": 0}
    assert call(bridge, "add_grant", path=str(folder), mode="ro") == [
        {"path": str(folder), "mode": "ro", **alone}
    ]
    call(bridge, "add_grant", path=str(folder) + "/", mode="rw")  # same folder: mode changes
    assert call(bridge, "list_grants") == [{"path": str(folder), "mode": "rw", **alone}]
    assert SettingsStore(app.paths.settings_file).current.grants[0].mode == "rw"
    assert call(bridge, "remove_grant", path=str(folder)) == []
    assert call(bridge, "remove_grant", path=str(folder))["code"] == "not_found"


def test_nested_grants_are_listed_as_a_tree_and_the_inner_one_decides(app, tmp_path):
    """Issue 16 #7: a read-only grant inside a read-and-change one, granted after it."""
    bridge = Bridge(app)
    outer, inner, deeper = tmp_path / "home", tmp_path / "home" / "taxes", tmp_path / "home2"
    for folder in (inner, deeper):
        folder.mkdir(parents=True)
    (inner / "2024.txt").write_text("filed")
    call(bridge, "add_grant", path=str(deeper), mode="rw")
    call(bridge, "add_grant", path=str(outer), mode="rw")
    listed = call(bridge, "add_grant", path=str(inner), mode="ro")
    assert [(g["path"], g["inside"], g["depth"]) for g in listed] == [
        (str(outer), None, 0),
        (str(inner), str(outer), 1),
        (str(deeper), None, 0),  # a sibling whose name starts the same is not inside
    ]
    result = app.folders.tool_runner().run(
        "write_file", {"path": str(inner / "2024.txt"), "content": "changed"}, approval="approved"
    )
    assert not result.ok and "read-only grant" in result.error
    assert (inner / "2024.txt").read_text() == "filed"


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
    undo, write = call(bridge, "list_activity")[:2]  # newest first: the undo is a call too
    assert undo["tool"] == "undo" and undo["changes"][0]["kind"] == "overwritten"
    assert write["changes"][0]["undone_at"] is not None


def test_there_is_no_folder_dialog_in_the_browser(app):
    assert call(Bridge(app), "choose_folder")["code"] == "invalid_request"


def test_a_folder_holding_the_apps_data_cannot_be_moved_and_protection_follows_it(
    isolated_user_dirs, tmp_path
):
    # The attack: the data dir inside a read-and-change grant, then one harmless-looking move
    # of a parent folder, after which the old paths protected nothing.
    granted = tmp_path / "granted"
    paths = resolve_paths(granted / "projects" / "LocalWorkHero")
    application = App(paths)
    try:
        application.folders.add(str(granted), "rw")  # writes config/settings.json
        assert paths.settings_file.is_file()
        runner = application.folders.tool_runner()
        for name, arguments in (
            ("move_file", {"source": "projects", "destination": "projects-2024"}),
            ("move_file", {"source": "projects/LocalWorkHero", "destination": "elsewhere"}),
            ("delete_file", {"path": "projects"}),
        ):
            result = runner.run(name, arguments, approval="approved")
            assert not result.ok and "LocalWork Hero's own data" in result.error, name
        assert paths.settings_file.is_file()

        # Protection follows the folders themselves: the user renames the parent by hand.
        (granted / "projects").rename(granted / "projects-2024")
        runner = application.folders.tool_runner()
        moved_data = "projects-2024/LocalWorkHero"
        for name, arguments in (
            ("read_file", {"path": f"{moved_data}/config/settings.json"}),
            ("delete_file", {"path": f"{moved_data}/audit.sqlite3"}),
            ("list_directory", {"path": moved_data}),
            ("move_file", {"source": "projects-2024", "destination": "p"}),
        ):
            result = runner.run(name, arguments, approval="approved")
            assert not result.ok and "LocalWork Hero's own data" in result.error, name
        assert (granted / moved_data / "audit.sqlite3").is_file()
    finally:
        application.close()


def test_no_grant_reaches_inside_the_apps_folders(app):
    bridge = Bridge(app)
    app.paths.backups_dir.mkdir(exist_ok=True)
    (app.paths.backups_dir / "kept.bak").write_text("a deleted file")
    for folder in (app.paths.backups_dir, app.paths.models_dir, app.paths.config_dir):
        error = call(bridge, "add_grant", path=str(folder), mode="rw")
        assert "LocalWork Hero's own data" in error["message"]
        # A grant that got past the door (a run's --grant, an old settings file) reaches nothing.
        sneaked = [FolderGrant(path=str(folder), mode="rw")]
        folders = Folders(app.settings, app.paths, app.audit, session_grants=sneaked)
        try:
            result = folders.tool_runner().run("list_directory", {"path": "."})
        finally:
            folders.close()
        assert not result.ok and "LocalWork Hero's own data" in result.error


def test_the_apps_folders_and_files_are_private(app):
    call(Bridge(app), "add_grant", path=str(app.paths.data_dir.parent), mode="ro")
    app.store.create_conversation("private")
    root = logging.getLogger()
    handlers = root.handlers[:]
    try:
        setup_logging(app.paths)
        logging.getLogger("test").warning("a line in the log")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
    for folder in (app.paths.data_dir, app.paths.config_dir, app.paths.log_dir):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    for file in (
        app.paths.database_file,
        app.paths.audit_file,
        app.paths.settings_file,
        app.paths.log_file,
    ):
        assert file.stat().st_mode & 0o777 == 0o600, file


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
