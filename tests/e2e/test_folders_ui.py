"""Folder grants and the activity log with undo, in the real UI."""

import subprocess

from playwright.sync_api import expect

from tests.conftest import localwork_command
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import wait_until_ready


def test_grant_and_revoke_folders(page, tmp_path, artifacts_dir):
    documents = tmp_path / "Documents"
    documents.mkdir()
    wait_until_ready(page)
    page.get_by_role("button", name="Folders").click()
    dialog = page.get_by_role("dialog", name="Folders")
    expect(dialog.get_by_test_id("grant-list-empty")).to_be_visible()
    expect(dialog.get_by_role("button", name="Browse…")).to_be_hidden()  # browser: no dialog

    dialog.get_by_label("Folder to grant").fill(str(tmp_path / "nowhere"))
    dialog.get_by_role("button", name="Add folder").click()
    expect(dialog.get_by_test_id("grant-message")).to_contain_text("cannot grant")

    dialog.get_by_label("Folder to grant").fill(str(documents))
    dialog.get_by_label("Access").select_option("rw")
    dialog.get_by_role("button", name="Add folder").click()
    item = dialog.get_by_test_id("grant-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(str(documents))
    expect(item).to_contain_text("read and change")
    page.screenshot(path=str(artifacts_dir / "folders.png"))

    page.reload()
    wait_until_ready(page)
    page.get_by_role("button", name="Folders").click()
    expect(dialog.get_by_test_id("grant-item")).to_have_count(1)
    dialog.get_by_role("button", name=f"Revoke {documents}").click()
    expect(dialog.get_by_test_id("grant-item")).to_have_count(0)
    expect(dialog.get_by_test_id("grant-message")).to_contain_text("can no longer reach it")


def test_undo_a_change_from_the_activity_log(page, served, tmp_path, artifacts_dir):
    work = tmp_path / "work"
    work.mkdir()
    (work / "plan.txt").write_text("the original plan")
    command = localwork_command(
        "tool",
        "write_file",
        '{"path": "plan.txt", "content": "a new plan"}',
        "--grant",
        f"{work}:rw",
        "--yes",
        "--data-dir",
        str(served.paths.data_dir),
    )
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert (work / "plan.txt").read_text() == "a new plan"

    wait_until_ready(page)
    page.get_by_role("button", name="Activity").click()
    dialog = page.get_by_role("dialog", name="Activity")
    entry = dialog.get_by_test_id("activity-item").first
    expect(entry).to_contain_text("write_file")
    expect(entry).to_contain_text("approved")
    page.screenshot(path=str(artifacts_dir / "activity.png"))
    undo = entry.get_by_role("button", name=f"Undo: changed {work / 'plan.txt'}")
    undo.click()  # the app itself has not been granted this folder yet
    expect(dialog.get_by_test_id("activity-message")).to_contain_text("grant the folder")
    assert (work / "plan.txt").read_text() == "a new plan"

    api_call(page, "add_grant", path=str(work), mode="rw")
    undo.click()
    expect(dialog.get_by_test_id("activity-message")).to_have_text("Undone.")
    items = dialog.get_by_test_id("activity-item")
    # Newest first: the undo (a change itself, so it can be undone), the
    # refused try (audited too), the write.
    expect(items.nth(0)).to_contain_text("undo")
    expect(
        items.nth(0).get_by_role("button", name=f"Undo: changed {work / 'plan.txt'}")
    ).to_be_visible()
    expect(items.nth(1)).to_contain_text("no folder has been granted")
    expect(items.nth(2)).to_contain_text("write_file")
    expect(items.nth(2)).to_contain_text("undone")
    page.screenshot(path=str(artifacts_dir / "activity-undone.png"))
    assert (work / "plan.txt").read_text() == "the original plan"


def test_nested_grants_show_as_a_tree(page, tmp_path, artifacts_dir):
    """Issue 16 #7: a read-only folder inside a read-and-change one shows where it lies."""
    home, taxes, other = tmp_path / "home", tmp_path / "home" / "taxes", tmp_path / "photos"
    for folder in (taxes, other):
        folder.mkdir(parents=True)
    wait_until_ready(page)
    page.get_by_role("button", name="Folders").click()
    dialog = page.get_by_role("dialog", name="Folders")
    items = dialog.get_by_test_id("grant-item")
    for count, (folder, mode) in enumerate(((home, "rw"), (other, "ro"), (taxes, "ro")), 1):
        dialog.get_by_label("Folder to grant").fill(str(folder))
        dialog.get_by_label("Access").select_option(mode)
        dialog.get_by_role("button", name="Add folder").click()
        expect(items).to_have_count(count)
    expect(items.nth(1)).to_contain_text(str(taxes))  # right under the grant it lies in
    expect(items.nth(1)).to_contain_text("read only")
    expect(items.nth(1).get_by_test_id("grant-inside")).to_have_text(
        "inside home (read and change): read only here"
    )
    expect(items.nth(1)).to_have_attribute("data-depth", "1")
    expect(items.nth(0).get_by_test_id("grant-inside")).to_have_count(0)
    expect(items.nth(2).get_by_test_id("grant-inside")).to_have_count(0)
    dialog.screenshot(path=str(artifacts_dir / "nested-grants.png"))
