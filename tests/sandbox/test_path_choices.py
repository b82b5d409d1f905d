"""Path choices: what a guided call's path arguments may name, from real folders."""

import os

from localwork.sandbox.fs import Sandbox
from localwork.sandbox.grants import Grant
from localwork.tools.files import FILE_TOOLS
from localwork.tools.path_choices import PathChoices, request_words


def test_reads_name_existing_files_relative_to_the_first_grant(sandbox, layout):
    choices = PathChoices.gather(sandbox, "Read notes.txt")
    files = choices.for_role("file")
    assert "notes.txt" in files and "sub/deep.txt" in files
    assert str(layout.docs / "readme.md") in files  # another grant: absolute
    assert "." not in files and "sub" not in files
    assert choices.for_role("folder")[:2] == [".", "sub"]


def test_the_apps_data_links_and_the_grant_itself_are_never_offered_for_changes(
    sandbox, layout
):
    os.symlink(layout.secret, layout.work / "link.txt")
    choices = PathChoices.gather(sandbox, "Delete everything")
    everything = choices.for_role("entry")
    assert not any("LocalWorkHeroData" in name or "link.txt" in name for name in everything)
    deletable = choices.for_role("changeable_entry")
    assert "." not in deletable and str(layout.docs) not in deletable
    assert not any(name.startswith(str(layout.docs)) for name in deletable)  # read-only grant
    assert "notes.txt" in deletable and "sub" in deletable


def test_new_names_come_from_the_request_and_never_name_what_exists(sandbox):
    choices = PathChoices.gather(sandbox, "Move notes.txt into the sub folder, as 'my plan.md'.")
    new = choices.for_role("new")
    assert "sub/notes.txt" in new and "my plan.md" in new and "sub/my plan.md" in new
    assert "notes.txt" not in new and "sub" not in new  # they exist
    assert all(not name.startswith("/") for name in new)  # only in read-and-change grants


def test_request_words_are_trimmed_of_sentence_punctuation():
    assert request_words("Delete old-draft.txt.") == ("Delete", "old-draft.txt")
    assert request_words('Create "a b.txt" now') == ("a b.txt", "Create", "a", "b.txt", "now")


def test_constrained_schemas_list_the_choices_and_tools_without_any_are_not_fit(layout):
    empty = layout.work / "empty"
    empty.mkdir()
    read_only = PathChoices.gather(Sandbox([Grant.of(empty, writable=False)]), "Delete x.txt")
    assert not read_only.fits(FILE_TOOLS["read_file"])  # nothing to read
    assert not read_only.fits(FILE_TOOLS["delete_file"])  # nothing may change
    assert read_only.fits(FILE_TOOLS["list_directory"])
    writable = PathChoices.gather(Sandbox([Grant.of(layout.work, writable=True)]), "Rm x.txt")
    schema = writable.constrain(FILE_TOOLS["move_file"])
    assert "notes.txt" in schema["properties"]["source"]["enum"]
    assert "x.txt" in schema["properties"]["destination"]["enum"]
    assert schema["required"] == ["source", "destination"]


def test_words_with_hidden_characters_are_never_offered_as_new_names(sandbox):
    choices = PathChoices.gather(sandbox, "Create invoice\u202etxt.desktop please")
    assert not any("\u202e" in name for name in choices.for_role("new"))
