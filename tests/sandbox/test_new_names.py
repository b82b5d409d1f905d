"""Issue 16 #4: new names that hide what they are (bidi overrides, invisible characters)."""

import pytest

from localwork.tools.sandbox.names import escaped
from tests.sandbox.conftest import run

HIDING = [
    "invoice\u202etxt.desktop",  # shows as "invoicepotksed.txt": a right-to-left override
    "report\u2066.pdf\u2069.sh",  # an isolate
    "notes\u200b.txt",  # zero-width space: looks like notes.txt
    "a\u200dlog",  # zero-width joiner
    "\ufeffstart.txt",  # byte-order mark
    "two\nlines.txt",  # a control character splits the name over lines
    "tab\there.txt",
    "bell\x07.txt",
    "line\u2028sep.txt",
    "\u3164.txt",  # a Hangul filler, which draws as nothing
]


@pytest.mark.parametrize("name", HIDING)
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("write_file", lambda name: {"path": name, "content": "x"}),
        ("create_directory", lambda name: {"path": f"new/{name}"}),
        ("move_file", lambda name: {"source": "notes.txt", "destination": name}),
    ],
)
def test_new_names_with_hidden_characters_are_refused(runner, layout, tool, arguments, name):
    before = sorted(p.name for p in layout.work.iterdir())
    preview = runner.preview(tool, arguments(name))
    assert "invisible or control characters" in preview["error"]  # refused before asking
    assert "U+" in preview["error"] and escaped(name) in preview["error"]
    result = run(runner, tool, **arguments(name))
    assert not result.ok and "invisible or control characters" in result.error
    assert sorted(p.name for p in layout.work.iterdir()) == before


def test_an_existing_such_name_can_still_be_read_changed_and_renamed(runner, layout):
    odd = layout.work / "invoice\u202etxt.desktop"
    odd.write_text("from a download")
    assert run(runner, "read_file", path=odd.name).output["content"] == "from a download"
    assert run(runner, "write_file", path=odd.name, content="cleaned").ok
    assert run(runner, "move_file", source=odd.name, destination="invoice.desktop").ok
    assert (layout.work / "invoice.desktop").read_text() == "cleaned"


@pytest.mark.parametrize("name", ["café.txt", "Résumé 2024.pdf", "日本語.md", "❤️.txt", "a b.txt"])
def test_ordinary_names_from_every_script_are_fine(runner, layout, name):
    assert run(runner, "write_file", path=name, content="x").ok
    assert (layout.work / name).read_text() == "x"


def test_escaped_shows_each_hidden_character():
    assert escaped("invoice\u202etxt.desktop") == "invoice\\u202etxt.desktop"
    assert escaped("plain.txt") == "plain.txt"
