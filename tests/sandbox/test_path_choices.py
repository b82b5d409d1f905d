"""Path choices: what a guided call's path arguments may name, from real folders."""

import os

from localwork.tools.files import FILE_TOOLS
from localwork.tools.path_choices import PathChoices, request_texts, request_words
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.sandbox.grants import Grant


def test_reads_name_existing_files_relative_to_the_first_grant(sandbox, layout):
    choices = PathChoices.gather(sandbox, "Read notes.txt")
    files = choices.for_role("file")
    assert "notes.txt" in files and "sub/deep.txt" in files
    assert str(layout.docs / "readme.md") in files  # another grant: absolute
    assert "." not in files and "sub" not in files
    assert choices.for_role("folder")[:2] == [".", "sub"]


def test_the_apps_data_links_and_the_grant_itself_are_never_offered_for_changes(sandbox, layout):
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


def test_a_guided_call_takes_the_first_entry_the_request_names(sandbox, layout):
    (layout.work / "sub" / "notes.txt").write_text("another")
    choices = PathChoices.gather(sandbox, "Move notes.txt into the sub folder")
    assert choices.named(choices.for_role("changeable_entry"))[:2] == ["notes.txt", "sub/notes.txt"]
    assert choices.narrowed("changeable_entry") == ["notes.txt"]  # never the folder named after
    # A request that names nothing leaves every possible value.
    vague = PathChoices.gather(sandbox, "Tidy up please")
    assert vague.narrowed("file") == vague.for_role("file")


def test_a_move_goes_into_a_folder_the_request_names_or_is_renamed_beside_itself(sandbox, layout):
    (layout.work / "archive").mkdir()
    into = PathChoices.gather(sandbox, "Move notes.txt into the archive folder")
    assert into.narrowed("new_place", "notes.txt") == ["archive/notes.txt"]
    rename = PathChoices.gather(sandbox, "Rename sub/deep.txt to shallow.txt")
    places = rename.narrowed("new_place", "sub/deep.txt")
    assert "sub/shallow.txt" in places and all(p.startswith("sub/") for p in places)
    itself = PathChoices.gather(sandbox, "Move sub into sub")  # never into itself
    assert "sub/sub" not in itself.narrowed("new_place", "sub")


def test_a_new_file_is_a_word_that_looks_like_a_file_name(sandbox):
    choices = PathChoices.gather(sandbox, "Create a file called ideas.txt containing: tomatoes")
    assert choices.narrowed("file_target") == ["ideas.txt", "sub/ideas.txt"]
    assert choices.texts == ("tomatoes",)
    append = PathChoices.gather(sandbox, "Add the line 'water the plants' to notes.txt")
    assert append.narrowed("file_target") == ["notes.txt"]  # an existing file it names
    assert append.texts == ("water the plants",)


def test_request_texts_are_the_quoted_ones_or_what_follows_a_colon():
    assert request_texts("Change 'milk' to \"oat milk\" in todo.txt") == ["milk", "oat milk"]
    assert request_texts("Save 'plan.md' with: buy seeds") == ["buy seeds"]  # a quoted name
    assert request_texts("Delete old.txt") == []
