"""The agent loop with the real SmolLM2-135M: guided calls on a real folder."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from localwork.tools.path_choices import NEW_ROLES

FILES = ("invoice-2026-01.pdf", "notes.txt")


@pytest.fixture
def documents() -> Iterator[Path]:
    """A folder with a path as short as a user's own (pytest's long temp paths are beyond
    what a 135M model copies reliably; larger models are not tested here)."""
    root = Path(tempfile.mkdtemp(prefix="lw", dir="/tmp"))
    folder = root / "Documents"
    folder.mkdir()
    yield folder
    shutil.rmtree(root)


def test_the_real_model_lists_a_real_folder_and_answers(start_app, watch, documents):
    folder = documents
    for name in FILES:
        (folder / name).write_text("x")
    app = start_app(grants=[{"path": str(folder), "mode": "ro"}])
    conversation = app.store.create_conversation()
    app.store.set_tool_mode(conversation["id"], "required")  # a 135M model needs the push
    events = watch(app.events)
    job = app.chat.send(conversation["id"], "List the files in my folder.")["job_id"]
    message = events.wait_for("reply_done", job_id=job)["message"]

    first = message["meta"]["tool_calls"][0]
    assert first["tool"] == "list_directory" and first["status"] == "done"
    assert Path(first["result"]["path"]) == folder
    assert sorted(entry["name"] for entry in first["result"]["entries"]) == sorted(FILES)
    # What a 135M model writes varies: the guarantee is an answer that is not empty and not
    # markup (when the model says nothing, the reply says what the call really did).
    assert message["content"].strip() and "tool_response>" not in message["content"]
    # The card's life in events: it ran, then finished, and the answer streamed after it.
    statuses = [e["call"]["status"] for e in events.seen if e["type"] == "tool_call"]
    assert statuses[:2] == ["running", "done"]


@pytest.mark.parametrize(
    "request_text", ["Read notes.txt and tell me what it says.", "Rename notes.txt to old.txt."]
)
def test_the_real_models_guided_call_names_only_paths_that_fit(
    start_app, watch, documents, request_text
):
    for name in FILES:
        (documents / name).write_text("x")
    app = start_app(grants=[{"path": str(documents), "mode": "rw"}])
    app.chat.approvals.policy = "refuse"  # nothing may change in this test
    conversation = app.store.create_conversation()
    app.store.set_tool_mode(conversation["id"], "required")
    events = watch(app.events)
    job = app.chat.send(conversation["id"], request_text)["job_id"]
    message = events.wait_for("reply_done", job_id=job)["message"]

    first = message["meta"]["tool_calls"][0]
    tool = app.folders.tool_runner().tools[first["tool"]]
    existing = {".", *FILES}
    for argument, role in tool.path_roles.items():
        value = first["arguments"][argument]
        if role in NEW_ROLES:
            assert value not in existing, first
        elif role != "file_target":  # a write may also name a new file
            assert value in existing, first  # by construction, whatever the model prefers
    assert sorted(path.name for path in documents.iterdir()) == sorted(FILES)
    assert message["content"].strip()
