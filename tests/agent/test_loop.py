"""The agent loop on an in-process fake engine: every path, deterministic, with real files."""

from __future__ import annotations

import threading

from localwork.conversations.store import ConversationStore
from localwork.engine.toolcalls import answer_grammar
from localwork.errors import InvalidRequest
from localwork.tools.approval import UserAnswer
from tests.agent.conftest import OPEN, call, guided


def test_multi_step_reads_then_answers(fake_app):
    s = fake_app(
        [
            *guided("list_directory", said="Let me look. ", path="."),
            *guided("read_file", path="a.txt"),
            {"text": "There is a.txt, which says hello."},
        ]
    )
    (s.folder / "a.txt").write_text("hello")
    job = s.send("What is in my folder?")["job_id"]
    message = s.done(job)["message"]

    assert message["content"] == "There is a.txt, which says hello."
    calls = message["meta"]["tool_calls"]
    assert [(c["tool"], c["status"]) for c in calls] == [
        ("list_directory", "done"),
        ("read_file", "done"),
    ]
    assert [e["name"] for e in calls[0]["result"]["entries"]] == ["a.txt"]
    assert message["meta"]["round_texts"] == ["Let me look. ", ""]
    requests = s.requests()
    # Text phases stop at call markers; call phases run under the tools' grammar.
    assert "<tool_call>" in requests[0]["stop"] and requests[0]["grammar"] is None
    assert requests[1]["grammar"]["property_order"] == ["name", "arguments"]
    assert requests[1]["prompt"].endswith("Let me look. <tool_call>\n")
    # Results go back to the model, and the folder it may use is in the system prompt.
    assert '"a.txt"' in requests[2]["prompt"] and "<tool_response>" in requests[2]["prompt"]
    assert f'You may use only these folders: "{s.folder}"' in requests[0]["prompt"]
    assert "hello" in requests[4]["prompt"]
    # The call markup never reached the chat text.
    assert "<tool_call>" not in "".join(s.events.tokens(job))


def test_a_write_waits_for_approval_and_shows_a_diff(fake_app):
    s = fake_app([*guided("write_file", path="notes.txt", content="new text\n"), {"text": "Done."}])
    job = s.send("Write notes.txt")["job_id"]
    waiting = s.events.wait_for("tool_call", job_id=job)["call"]
    assert waiting["status"] == "waiting"
    assert waiting["preview"]["summary"] == f"Create {s.folder / 'notes.txt'}"
    assert "+new text" in waiting["preview"]["diff"]
    assert not (s.folder / "notes.txt").exists()  # nothing happens before the answer

    s.app.chat.decide(s.conversation_id, waiting["id"], UserAnswer("once"))
    message = s.done(job)["message"]
    assert (s.folder / "notes.txt").read_text() == "new text\n"
    assert message["meta"]["tool_calls"][0]["status"] == "done"
    (entry,) = s.app.folders.activity(10, s.conversation_id)
    assert entry["tool"] == "write_file" and entry["decision"] == "approved"


def test_a_denial_with_a_reason_reaches_the_model(fake_app):
    s = fake_app([*guided("delete_file", path="keep.txt"), {"text": "OK, I left it alone."}])
    (s.folder / "keep.txt").write_text("precious")
    job = s.send("Delete keep.txt")["job_id"]
    waiting = s.events.wait_for("tool_call", job_id=job)["call"]
    s.app.chat.decide(s.conversation_id, waiting["id"], UserAnswer("deny", "I still need it"))
    message = s.done(job)["message"]

    assert (s.folder / "keep.txt").read_text() == "precious"
    (denied,) = message["meta"]["tool_calls"]
    assert denied["status"] == "denied" and denied["reason"] == "I still need it"
    assert "the user denied this delete_file call: I still need it" in s.requests()[2]["prompt"]


def test_approve_for_this_conversation_stops_asking_for_that_tool(fake_app):
    s = fake_app(
        [
            *guided("create_directory", path="2026-01"),
            *guided("create_directory", path="2026-02"),
            {"text": "Both folders exist now."},
        ]
    )
    job = s.send("Make two month folders")["job_id"]
    waiting = s.events.wait_for("tool_call", job_id=job)["call"]
    s.app.chat.decide(s.conversation_id, waiting["id"], UserAnswer("conversation"))
    message = s.done(job)["message"]
    statuses = [e["call"]["status"] for e in s.events.seen if e["type"] == "tool_call"]
    assert statuses.count("waiting") == 1  # the second call did not ask
    assert (s.folder / "2026-01").is_dir() and (s.folder / "2026-02").is_dir()
    assert [c["status"] for c in message["meta"]["tool_calls"]] == ["done", "done"]


def test_allow_in_this_chat_does_not_cover_a_folder_granted_later(fake_app, tmp_path):
    """Issue 16 #10: the standing approval reached folders the user granted afterwards."""
    later = tmp_path / "later"
    later.mkdir()
    s = fake_app(
        [
            *guided("create_directory", path="2026-01"),
            *guided("create_directory", path=str(later / "2026-02")),
            *guided("create_directory", path="2026-03"),
            {"text": "Done."},
        ]
    )
    job = s.send("Make month folders")["job_id"]
    first = s.events.wait_for("tool_call", job_id=job)["call"]
    assert first["status"] == "waiting"
    s.app.folders.add(str(later), "rw")  # granted after the card asked
    s.app.chat.decide(s.conversation_id, first["id"], UserAnswer("conversation"))
    second = first
    while second["id"] == first["id"] or second["status"] != "waiting":
        second = s.events.wait_for("tool_call", job_id=job)["call"]
    assert second["arguments"]["path"] == str(later / "2026-02")
    assert not (later / "2026-02").exists()  # it asked instead of running
    s.app.chat.decide(s.conversation_id, second["id"], UserAnswer("conversation"))
    message = s.done(job)["message"]
    statuses = [e["call"]["status"] for e in s.events.seen if e["type"] == "tool_call"]
    assert statuses.count("waiting") == 2  # the renewed allowance covers the third call
    assert [c["status"] for c in message["meta"]["tool_calls"]] == ["done"] * 3


def test_errors_go_back_to_the_model_which_corrects_itself(fake_app):
    s = fake_app(
        [
            *guided("read_file", path="../outside.txt"),
            # A bare JSON call (no marker) with a wrong argument name: parsed, then refused.
            {"text": '{"name": "read_file", "arguments": {"file": "a.txt"}}'},
            *guided("read_file", path="a.txt"),
            {"text": "It says hi."},
        ]
    )
    (s.folder / "a.txt").write_text("hi")
    job = s.send("Read my file")["job_id"]
    message = s.done(job)["message"]
    first, second, third = message["meta"]["tool_calls"]
    assert first["status"] == "failed" and "not inside a granted folder" in first["error"]
    assert second["status"] == "failed" and "invalid arguments" in second["error"]
    assert third["status"] == "done" and third["result"]["content"] == "hi"
    prompts = [r["prompt"] for r in s.requests()]
    assert "not inside a granted folder" in prompts[2]
    assert "invalid arguments" in prompts[3]
    assert message["content"] == "It says hi."


def test_the_round_cap_ends_the_loop_with_a_notice(fake_app):
    s = fake_app(
        [
            *guided("list_directory", path="."),
            *guided("file_info", path="."),
            {"text": "Still looking " + OPEN["text"]},
        ],
        max_tool_rounds=2,
    )
    job = s.send("Look around")["job_id"]
    message = s.done(job)["message"]
    assert len(message["meta"]["tool_calls"]) == 2
    assert "stopped after 2 rounds" in message["meta"]["notice"]
    assert message["content"] == "Still looking "
    last = s.requests()[-1]
    assert last["grammar"] is None and "To call a tool" not in last["prompt"]  # none offered


def test_repeating_the_same_call_is_refused_then_ends_the_loop(fake_app):
    same = guided("list_directory", path=".")
    s = fake_app([*same, *same, *same, {"text": "unused"}])
    job = s.send("List it")["job_id"]
    message = s.done(job)["message"]
    statuses = [c["status"] for c in message["meta"]["tool_calls"]]
    assert statuses == ["done", "failed", "failed"]
    assert "already made this exact call" in message["meta"]["tool_calls"][1]["error"]
    assert "kept repeating" in message["meta"]["notice"]
    assert len(s.requests()) == 6  # the fourth reply was never asked for


def test_stop_while_waiting_for_approval_runs_nothing(fake_app):
    s = fake_app([*guided("write_file", path="x.txt", content="x")])
    job = s.send("Write x")["job_id"]
    waiting = s.events.wait_for("tool_call", job_id=job)["call"]
    assert s.app.chat.stop(s.conversation_id)
    done = s.done(job)
    assert done["stopped"]
    assert done["message"]["meta"]["tool_calls"][0]["status"] == "stopped"
    assert not (s.folder / "x.txt").exists()
    assert waiting["id"] not in s.app.chat.approvals.waiting_calls(s.conversation_id)


def test_stop_while_writing_keeps_the_text_so_far(fake_app):
    s = fake_app([{"text": "word " * 400, "delay": 0.01}])
    job = s.send("Talk")["job_id"]
    s.events.wait_for("token", job_id=job)
    threading.Timer(0.1, s.app.chat.stop, args=(s.conversation_id,)).start()
    done = s.done(job)
    assert done["stopped"]
    assert 0 < len(done["message"]["content"]) < len("word " * 400)


def test_tool_use_off_offers_no_tools(fake_app):
    s = fake_app([{"text": "Plain answer <tool_call> shown as text."}])
    s.app.store.set_tool_mode(s.conversation_id, "off")
    job = s.send("Hello")["job_id"]
    message = s.done(job)["message"]
    (request,) = s.requests()
    assert "<tool_call>" not in request["stop"] and "To call a tool" not in request["prompt"]
    assert message["content"] == "Plain answer <tool_call> shown as text."
    assert "tool_calls" not in message["meta"]


def test_tool_use_required_starts_with_a_guided_call(fake_app):
    s = fake_app([call("list_directory", path="."), {"text": "Empty folder."}])
    s.app.store.set_tool_mode(s.conversation_id, "required")
    job = s.send("Anything")["job_id"]
    message = s.done(job)["message"]
    first, second = s.requests()
    assert first["grammar"] is not None and first["prompt"].endswith("<tool_call>\n")
    # The answer after the result is free text, except that it may not start like markup.
    # (The bundled model is very small: with tools required it answers after its first call.)
    assert second["grammar"] == answer_grammar(calls=False) and second["grammar_tokens"] == 8
    assert message["meta"]["tool_calls"][0]["status"] == "done"


def test_a_revoked_grant_counts_for_the_running_conversation(fake_app):
    s = fake_app([*guided("write_file", path="late.txt", content="x"), {"text": "Sorry."}])
    job = s.send("Write late.txt")["job_id"]
    waiting = s.events.wait_for("tool_call", job_id=job)["call"]
    s.app.folders.remove(str(s.folder))
    s.app.chat.decide(s.conversation_id, waiting["id"], UserAnswer("once"))
    message = s.done(job)["message"]
    assert message["meta"]["tool_calls"][0]["status"] == "failed"
    assert not (s.folder / "late.txt").exists()


def test_tool_turns_persist_and_feed_the_next_turn(fake_app):
    s = fake_app([*guided("list_directory", path="."), {"text": "One file."}, {"text": "Yes."}])
    (s.folder / "only.txt").write_text("1")
    s.done(s.send("What is there?")["job_id"])
    s.done(s.send("Are you sure?")["job_id"])
    stored = s.app.store.messages(s.conversation_id)
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[1]["meta"]["tool_calls"][0]["result"]["entries"][0]["name"] == "only.txt"
    last_prompt = s.requests()[-1]["prompt"]
    assert "only.txt" in last_prompt and last_prompt.count("<tool_response>") >= 1


def test_a_long_result_reaches_the_model_cut_with_a_marker(fake_app):
    s = fake_app([*guided("read_file", path="big.txt"), {"text": "It is long."}])
    s.app.settings.update({"context": {"n_ctx": 2048}})
    s.app.runtime.load_and_wait(None)
    (s.folder / "big.txt").write_text("line of text\n" * 2000)
    job = s.send("Read big.txt")["job_id"]
    message = s.done(job)["message"]
    stored = message["meta"]["tool_calls"][0]["result"]["content"]
    assert len(stored) > 20_000  # the card keeps what the tool returned
    fed_back = s.requests()[2]["prompt"]
    assert "[truncated: kept the first 2048 of" in fed_back
    assert fed_back.count("line of text") < 200


def test_a_repeat_after_a_change_runs_again(fake_app):
    s = fake_app(
        [
            *guided("read_file", path="a.txt"),
            *guided("edit_file", path="a.txt", old_text="old", new_text="new"),
            *guided("read_file", path="a.txt"),
            {"text": "It says new."},
        ]
    )
    (s.folder / "a.txt").write_text("old\n")
    s.app.chat.approvals.policy = "approve"
    message = s.done(s.send("Change and check")["job_id"])["message"]
    reads = [c for c in message["meta"]["tool_calls"] if c["tool"] == "read_file"]
    assert [c["status"] for c in reads] == ["done", "done"]
    assert reads[1]["result"]["content"] == "new\n"


def test_stop_in_one_conversation_leaves_another_writing(fake_app):
    s = fake_app([{"text": "word " * 150, "delay": 0.01}, {"text": "B's answer."}])
    s.app.store.set_tool_mode(s.conversation_id, "off")
    first = s.send("Talk")["job_id"]
    s.events.wait_for("token", job_id=first)
    other = s.app.store.create_conversation()
    second = s.app.chat.send(other["id"], "Hello")["job_id"]
    assert s.app.chat.stop(other["id"])  # B is only queued behind A
    done = s.done(first)
    assert not done["stopped"] and done["message"]["content"] == "word " * 150
    assert s.done(second)["stopped"]


def test_two_quick_sends_start_one_reply(fake_app):
    s = fake_app([{"text": "Only once.", "delay": 0.01}])
    results = []

    def send():
        try:
            results.append(s.send("Hi")["job_id"])
        except InvalidRequest as error:
            results.append(error)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs = [r for r in results if isinstance(r, str)]
    assert len(jobs) == 1 and isinstance(next(r for r in results if r not in jobs), InvalidRequest)
    s.done(jobs[0])
    assert [m["role"] for m in s.app.store.messages(s.conversation_id)] == ["user", "assistant"]


def test_closing_the_app_keeps_a_reply_that_waits_for_approval(fake_app, paths):
    s = fake_app(
        [*guided("create_directory", path="made"), *guided("write_file", path="x", content="x")]
    )
    s.app.chat.approvals.policy = "ask"
    job = s.send("Make a folder and a file")["job_id"]
    first = s.events.wait_for("tool_call", job_id=job)["call"]
    s.app.chat.decide(s.conversation_id, first["id"], UserAnswer("once"))
    while not any(
        e["type"] == "tool_call"
        and e["call"]["status"] == "waiting"
        and e["call"]["tool"] == "write_file"
        for e in s.events.seen
    ):
        s.events.wait_for("tool_call", job_id=job)
    s.app.close()
    reopened = ConversationStore(paths.database_file)
    stored = reopened.messages(s.conversation_id)
    reopened.close()
    assert (s.folder / "made").is_dir()
    assert [c["status"] for c in stored[-1]["meta"]["tool_calls"]] == ["done", "stopped"]


def test_a_change_that_cannot_succeed_is_refused_without_asking(fake_app):
    s = fake_app([*guided("delete_file", path="."), {"text": "I could not delete it."}])
    job = s.send("Delete my folder")["job_id"]
    message = s.done(job)["message"]
    (refused,) = message["meta"]["tool_calls"]
    assert refused["status"] == "failed" and "granted folder itself" in refused["error"]
    statuses = [e["call"]["status"] for e in s.events.seen if e["type"] == "tool_call"]
    assert "waiting" not in statuses  # nobody was asked to approve what cannot happen
    assert s.folder.is_dir()
    (entry,) = s.app.folders.activity(10, s.conversation_id)
    assert entry["decision"] == "refused"


def test_guided_calls_offer_only_paths_that_exist_or_are_new(fake_app):
    s = fake_app([*guided("read_file", path="a.txt"), {"text": "It says hello."}])
    (s.folder / "a.txt").write_text("hello")
    job = s.send("Read a.txt and copy it to b.txt")["job_id"]
    s.done(job)
    options = {
        option["properties"]["name"]["const"]: option["properties"]["arguments"]["properties"]
        for option in s.requests()[1]["grammar"]["schema"]["anyOf"]
    }
    assert options["read_file"]["path"]["enum"] == ["a.txt"]
    assert options["list_directory"]["path"]["enum"] == ["."]
    assert "b.txt" in options["write_file"]["path"]["enum"]
    assert "a.txt" not in options["create_directory"]["path"]["enum"]
    assert "." not in options["delete_file"]["path"]["enum"]


def test_an_answer_that_is_only_markup_becomes_what_the_calls_did(fake_app):
    s = fake_app(
        [
            *guided("list_directory", path="."),
            {"text": '<tool_response>\n{"entries": [{"name": "invented.txt"}]}\n</tool_response>'},
        ]
    )
    (s.folder / "real.txt").write_text("x")
    job = s.send("What is in my folder?")["job_id"]
    message = s.done(job)["message"]
    assert message["content"] == f"- {s.folder} holds 1: real.txt."
    assert message["meta"]["answer_from_results"] is True
    assert "no answer of its own" in message["meta"]["notice"]
    assert message["meta"]["tool_calls"][0]["outcome"] == f"{s.folder} holds 1: real.txt."


def test_a_delete_or_move_approved_for_one_file_never_touches_its_replacement(fake_app):
    # The card said "Delete report.txt"; while it waited, report.txt became another file.
    s = fake_app(
        [
            *guided("delete_file", path="report.txt"),
            *guided("move_file", source="plan.txt", destination="old-plan.txt"),
            {"text": "Done."},
        ]
    )
    (s.folder / "report.txt").write_text("a draft the model saw")
    (s.folder / "plan.txt").write_text("last year's plan")
    job = s.send("Tidy up")["job_id"]
    for name, replaced in (("report.txt", "the user's real report"), ("plan.txt", "new plan")):
        waiting = s.events.wait_for("tool_call", job_id=job)["call"]
        while waiting["status"] != "waiting":
            waiting = s.events.wait_for("tool_call", job_id=job)["call"]
        (s.folder / name).write_text(replaced)
        s.app.chat.decide(s.conversation_id, waiting["id"], UserAnswer("once"))
    calls = s.done(job)["message"]["meta"]["tool_calls"]
    assert [c["status"] for c in calls] == ["failed", "failed"]
    assert all("changed while this call waited" in c["error"] for c in calls)
    assert (s.folder / "report.txt").read_text() == "the user's real report"
    assert (s.folder / "plan.txt").read_text() == "new plan"
    assert not (s.folder / "old-plan.txt").exists()


def test_with_tools_required_a_small_model_answers_after_its_first_call_that_worked(
    fake_app,
):
    s = fake_app(
        [
            call("list_directory", path="."),
            {"text": "<tool_call>"},  # it would go on calling: the answer ends here instead
            call("delete_file", path="a.txt"),
        ]
    )
    (s.folder / "a.txt").write_text("x")
    s.app.chat.approvals.policy = "approve"
    s.app.store.set_tool_mode(s.conversation_id, "required")
    job = s.send("What is in my folder?")["job_id"]
    message = s.done(job)["message"]
    assert [c["tool"] for c in message["meta"]["tool_calls"]] == ["list_directory"]
    assert (s.folder / "a.txt").exists()
    assert message["content"] == f"- {s.folder} holds 1: a.txt."  # it wrote no words of its own
    answer = s.requests()[-1]
    assert answer["grammar"] == answer_grammar(calls=False)  # words only, no call marker
    assert answer["prompt"].rstrip().endswith("<|im_start|>assistant")
    assert "answer my request: What is in my folder?" in answer["prompt"]  # asked again, last


def test_a_new_chat_is_one_request_its_tool_mode_coming_with_its_first_message(fake_app):
    from localwork.transports.bridge import Bridge

    s = fake_app([{"text": "Hello."}])
    bridge = Bridge(s.app)
    reply = bridge.dispatch(
        "send_message", {"conversation_id": None, "text": "Hi", "tool_mode": "off"}
    )
    assert reply["ok"], reply
    assert reply["data"]["conversation"]["tool_mode"] == "off"
    s.done(reply["data"]["job_id"])
    assert s.requests()[-1].get("grammar") is None  # no tools were offered
    refused = bridge.dispatch(
        "send_message", {"conversation_id": None, "text": "Hi", "tool_mode": "x"}
    )
    assert (
        refused["error"]["code"] == "invalid_request" and "tool_mode" in refused["error"]["message"]
    )


def test_after_a_change_a_very_small_model_does_not_restate_it_the_reply_says_what_was_done(
    fake_app,
):
    s = fake_app([call("create_directory", path="archive")])
    s.app.store.set_tool_mode(s.conversation_id, "required")
    s.app.chat.approvals.policy = "approve"
    message = s.done(s.send("Make a folder named archive")["job_id"])["message"]
    assert (s.folder / "archive").is_dir()
    assert message["content"] == f"- Created folder {s.folder / 'archive'}."
    assert message["meta"]["answer_from_results"] is True
    assert len(s.requests()) == 1  # the call; nothing was generated after it


def test_an_engine_that_scores_chooses_the_first_tool_by_rating_the_request(fake_app):
    def likeliest_as_a_read(prompt: str, continuation: str) -> float:
        return 0.0 if prompt.startswith("A request to read a file") else -5.0

    s = fake_app(
        [OPEN, {"text": '{"path": "a.txt"}'}, {"text": "It says hello."}],
        scorer=likeliest_as_a_read,
    )
    (s.folder / "a.txt").write_text("hello")
    message = s.done(s.send("What is in a.txt?")["job_id"])["message"]
    (read,) = message["meta"]["tool_calls"]
    assert (read["tool"], read["arguments"], read["status"]) == (
        "read_file",
        {"path": "a.txt"},
        "done",
    )
    assert message["content"] == "It says hello."
    rated = [prompt for prompt, _ in s.engine.scored]
    assert rated and all(prompt.startswith("A request to ") for prompt in rated)
    assert s.requests()[1]["prompt"].endswith('{"name": "read_file", "arguments": ')
