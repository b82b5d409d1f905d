"""The agent loop with a tool source beside the file tools: offered with no folder granted,
its calls shown, approved and audited like the file tools' (the in-process fake engine)."""

from localwork.tools.approval import UserAnswer
from tests.agent.conftest import call, guided
from tests.support.tool_sources import NotesSource


def test_a_sources_tools_are_offered_and_run_with_no_folder_granted(fake_app):
    notes = NotesSource()
    s = fake_app([*guided("echo", text="hi"), {"text": "It said hi."}], None, tool_sources=(notes,))
    job = s.send("Echo hi")["job_id"]
    message = s.done(job)["message"]

    assert notes.calls == [("echo", {"text": "hi"})]
    (call,) = message["meta"]["tool_calls"]
    assert call["tool"] == "echo" and call["status"] == "done"
    first_prompt = s.requests()[0]["prompt"]
    assert "- echo(text)" in first_prompt and "- notes_read_file(text)" in first_prompt
    assert "- write_file(" not in first_prompt  # no folder granted: no file tools offered
    assert "list_directory" not in first_prompt  # nor examples that call them
    assert '"text": "hi"' in s.requests()[-1]["prompt"]  # the result went back to the model


def test_a_sources_tool_that_may_change_something_waits_for_the_user(fake_app):
    notes = NotesSource()
    s = fake_app(
        [*guided("stamp", text="meeting at 3"), {"text": "Stamped."}],
        None,
        tool_sources=(notes,),
    )
    job = s.send("Stamp 'meeting at 3'")["job_id"]
    waiting = s.events.wait_for("tool_call", job_id=job)["call"]
    assert waiting["status"] == "waiting"
    assert waiting["preview"]["summary"] == "Stamp 'meeting at 3' on the board"
    assert notes.stamped == []  # nothing happens before the answer

    s.app.chat.decide(s.conversation_id, waiting["id"], UserAnswer("once"))
    message = s.done(job)["message"]
    assert notes.stamped == ["meeting at 3"]
    assert message["meta"]["tool_calls"][0]["status"] == "done"
    (entry,) = s.app.folders.activity(10, s.conversation_id)
    assert entry["tool"] == "stamp" and entry["decision"] == "approved"


def test_tool_use_required_works_with_a_source_and_no_folder(fake_app):
    # Required: the first round writes the call itself, no marker first.
    s = fake_app([call("echo", text="x"), {"text": "Done."}], None, tool_sources=(NotesSource(),))
    s.app.store.set_tool_mode(s.conversation_id, "required")
    message = s.done(s.send("Echo x")["job_id"])["message"]
    assert message["meta"]["tool_calls"][0]["status"] == "done"
