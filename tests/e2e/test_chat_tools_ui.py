"""Markdown replies, copy, regenerate, edit and resend, the context meter, search, rename,
delete with undo, export and import, keyboard shortcuts and the first-launch welcome."""

import itertools
import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from localwork.transports.pace import stream_pace_ms
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import REPLY_TIMEOUT, send, wait_until_ready
from tests.support.prompts import LONG_REPLY_PROMPT
from tests.support.seed import export_document, seed_conversation

CODE = "def add(a, b):\n    return a + b"
MARKDOWN_REPLY = f"Here it is:\n\n```python\n{CODE}\n```\n\n- **bold** item\n- `inline` code"
STATS = {"prompt_tokens": 100, "completion_tokens": 20, "tokens_per_second": 50.0}
TOOL_CALL = {"tool": "read_file", "arguments": {"path": "a.txt"}, "status": "ok", "result": "hi"}


def seed_markdown_chat(served, title="Adding numbers") -> str:
    return seed_conversation(
        served.paths,
        title,
        [
            {"role": "user", "content": "Write an add function in Python"},
            {"role": "assistant", "content": MARKDOWN_REPLY, "meta": {"stats": STATS}},
        ],
    )


def open_fresh(page: Page) -> None:
    page.reload()
    wait_until_ready(page)


def clipboard(page: Page) -> str:
    return page.evaluate("navigator.clipboard.readText()")


def test_markdown_reply_with_highlighted_code_copy_and_context_meter(page, served):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    seed_markdown_chat(served)
    open_fresh(page)
    reply = page.get_by_test_id("message-assistant")
    body = reply.get_by_test_id("message-text")
    expect(body.locator("li strong")).to_have_text("bold")
    expect(body.locator("li code")).to_have_text("inline")
    code = body.locator("pre code.language-python")
    expect(code).to_have_text(CODE)
    expect(code.locator(".hljs-keyword").first).to_have_text("def")

    reply.get_by_role("button", name="Copy code").click()
    expect(reply.get_by_role("button", name="Copy code")).to_have_text("Copied")
    assert clipboard(page) == CODE
    reply.get_by_role("button", name="Copy reply").click()
    assert clipboard(page) == MARKDOWN_REPLY
    page.get_by_test_id("message-user").get_by_role("button", name="Copy message").click()
    assert clipboard(page) == "Write an add function in Python"

    expect(reply.get_by_test_id("message-meta")).to_have_text("20 tokens · 50.0 tok/s")
    n_ctx = api_call(page, "get_status")["model"]["n_ctx"]
    expect(page.get_by_test_id("context-text")).to_have_text(f"context 120 / {n_ctx:,} tokens")
    meter = page.get_by_role("meter", name="Context used")
    expect(meter).to_have_attribute("max", str(n_ctx))
    assert meter.evaluate("m => m.value") == 120
    page.keyboard.press("Control+n")
    expect(page.get_by_test_id("context-text")).to_have_text(f"context 0 / {n_ctx:,} tokens")


# Each text the context meter shows, with the number of the task that drew it, and the task in
# which the reply on screen was done.
WATCH_METER = """() => {
  const seen = window.__meter = { texts: [], doneIn: null };
  let task = 0;
  new MutationObserver((records) => {
    task += 1;
    for (const record of records) {
      if (record.type === 'attributes') {
        if (record.target.dataset.state === 'done') seen.doneIn ??= task;
      } else if (record.target.dataset?.testid === 'context-text') {
        for (const node of record.addedNodes) seen.texts.push([task, node.textContent]);
      }
    }
  }).observe(document.body,
             { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
}"""


def test_a_new_chats_first_reply_counts_its_prompt_while_it_is_written(page):
    wait_until_ready(page)
    page.evaluate(WATCH_METER)
    send(page, "Name a color.")
    wait_for_reply(page)
    seen = page.evaluate("window.__meter")
    assert seen["doneIn"] is not None
    counted = [
        int(re.match(r"context ([\d,]+) /", text).group(1).replace(",", ""))
        for task, text in seen["texts"]
        if task < seen["doneIn"] and text.startswith("context")
    ]
    # Not "context 0": the message it answers is counted from the reply's first text on.
    assert counted and counted[-1] > 0, seen


# Counts how often the streaming reply's Markdown is rebuilt, and the longest gap between
# animation frames (a janky page skips frames).
RECORD_RENDERS = """() => {
  window.__renders = 0;
  window.__maxFrameGap = 0;
  window.__watching = true;
  const messages = document.querySelector('[data-testid="messages"]');
  new MutationObserver((records) => {
    window.__renders += records.filter(
      (r) => r.type === 'childList' && r.target.classList.contains('markdown')).length;
  }).observe(messages, {subtree: true, childList: true});
  let last = performance.now();
  const frame = (now) => {
    window.__maxFrameGap = Math.max(window.__maxFrameGap, now - last);
    last = now;
    if (window.__watching) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""
STREAM_SECONDS = 3


def test_streaming_markdown_is_rebuilt_per_frame_batch_not_per_token(page):
    wait_until_ready(page)
    page.evaluate(RECORD_RENDERS)
    send(page, LONG_REPLY_PROMPT)
    reply = page.get_by_test_id("message-assistant").first
    expect(reply).to_have_attribute("data-state", "streaming", timeout=REPLY_TIMEOUT)
    page.wait_for_timeout(STREAM_SECONDS * 1000)
    renders = page.evaluate("window.__renders")
    page.keyboard.press("Escape")
    expect(reply).to_have_attribute("data-state", "stopped", timeout=5_000)
    page.evaluate("window.__watching = false")
    assert renders >= 3, renders  # it streamed, in pieces
    assert page.evaluate("window.__maxFrameGap") < 500
    # The final render is of the whole stored text: the same as after a reload.
    kept = reply.get_by_test_id("message-text").inner_html()
    open_fresh(page)
    expect(page.get_by_test_id("message-assistant").get_by_test_id("message-text")).to_have_count(1)
    assert (
        page.get_by_test_id("message-assistant").get_by_test_id("message-text").inner_html() == kept
    )


def test_a_streaming_reply_is_fetched_at_the_page_pace_not_for_every_piece(page):
    """The worker sends text every 100 ms; the page asks for it once a pace, which the bridge
    sets (transports/pace.py)."""
    wait_until_ready(page)
    polls: list[dict] = []
    page.on(
        "request",
        lambda request: (
            polls.append(json.loads(request.post_data or "{}"))
            if request.url.endswith("/api/poll_events")
            else None
        ),
    )
    send(page, LONG_REPLY_PROMPT)
    reply = page.get_by_test_id("message-assistant").first
    expect(reply).to_have_attribute("data-state", "streaming", timeout=REPLY_TIMEOUT)
    polls.clear()
    page.wait_for_timeout(STREAM_SECONDS * 1000)
    paced = [poll for poll in polls if poll.get("hold_streamed", 0) > 0]
    item = page.get_by_test_id("conversation-item").first
    expect(item).to_have_class(re.compile(r"\bbusy\b"))  # the sidebar marks it while it streams
    page.keyboard.press("Escape")
    expect(reply).to_have_attribute("data-state", "stopped", timeout=5_000)
    expect(item).not_to_have_class(re.compile(r"\bbusy\b"))
    pace = stream_pace_ms(api_call(page, "get_status"))
    assert paced, polls  # while text streams, the page asks the bridge to gather it
    assert len(polls) <= STREAM_SECONDS * 1000 / pace + 3, polls


# Each poll's answer reaches the page 400 ms late (the send's answer does not), and each
# batch of DOM changes (one per task, so one per frame at most) is noted with the state
# it left.
DELAY_EVENTS_AND_NOTE_DRAWS = """() => {
  const fetch0 = window.fetch.bind(window);
  window.fetch = async (url, init) => {
    const response = await fetch0(url, init);
    if (String(url).endsWith('/api/poll_events')) await new Promise((r) => setTimeout(r, 400));
    return response;
  };
  const testid = (node) => node?.dataset?.testid ?? node?.nodeName;
  window.__draws = [];
  new MutationObserver((records) => {
    const replies = document.querySelectorAll('[data-testid="message-assistant"]');
    const reply = replies[replies.length - 1];
    window.__draws.push({
      changed: records.map((r) => r.type === 'attributes'
        ? `${testid(r.target)}@${r.attributeName}` : `${r.type}:${testid(r.target)}`),
      users: document.querySelectorAll('[data-testid="message-user"]').length,
      reply: reply ? reply.dataset.state : null,
      text: reply ? reply.querySelector('[data-testid="message-text"]').textContent.length : 0,
      stop: !document.querySelector('[data-testid="stop-button"]').hidden,
      busy: document.querySelectorAll('[data-testid="conversation-item"].busy').length,
    });
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             characterData: true});
}"""


def test_a_sent_message_its_queued_reply_and_the_first_text_are_one_draw_each(page):
    """The send's answer draws the message, the reply waiting below it, Stop and the
    sidebar's busy mark at once; the reply_queued and reply_started events that come later
    change nothing; the first text and its "Writing…" line come in one draw."""
    wait_until_ready(page)
    page.evaluate(DELAY_EVENTS_AND_NOTE_DRAWS)
    send(page, LONG_REPLY_PROMPT)
    reply = page.get_by_test_id("message-assistant").first
    expect(reply.get_by_test_id("message-text")).not_to_have_text("", timeout=REPLY_TIMEOUT)
    page.keyboard.press("Escape")
    expect(reply).to_have_attribute("data-state", "stopped", timeout=10_000)
    draws = page.evaluate("window.__draws")
    sent = next(i for i, draw in enumerate(draws) if draw["users"] == 1)
    assert draws[sent]["reply"] == "waiting", draws[sent]
    assert draws[sent]["stop"] and draws[sent]["busy"] == 1, draws[sent]
    writing = next(i for i, draw in enumerate(draws) if draw["reply"] == "streaming")
    # Between them, nothing the queued or started events could redraw.
    for draw in draws[sent + 1 : writing]:
        changed = [c for c in draw["changed"] if "button" in c or "item" in c or "meta" in c]
        assert not changed, draws[sent : writing + 1]
    assert draws[writing]["text"] > 0, draws[writing - 1 : writing + 1]


# The real ChatView over a list of its own (with the welcome card it expects), a reply begun.
STANDALONE_REPLY = """
  const { ChatView } = await import('/js/chat.js');
  const root = document.createElement('section');
  const welcome = document.createElement('div');
  welcome.dataset.testid = 'welcome';
  root.append(welcome);
  document.body.append(root);
  const view = new ChatView(root, {});
  const node = view.beginReply();
"""

# The real ChatView, fed 100 tokens 10 ms apart, then 200 at once.
FEED_TOKENS = (
    """async () => {"""
    + STANDALONE_REPLY
    + """
  const body = node.querySelector('.message-text');
  let renders = 0;
  // One callback for each render, however many nodes it changed (a growing paragraph gets
  // its new words as a text node of their own).
  new MutationObserver(() => { renders += 1; }).observe(body, {childList: true, subtree: true});
  const started = performance.now();
  for (let i = 0; i < 100; i++) {
    view.appendToken(`word${i} `);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (let i = 0; i < 200; i++) view.appendToken('x');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const streamed = renders;
  const elapsed = performance.now() - started;
  view.finishReply({ stopped: false, stats: null, message: null });
  await new Promise((resolve) => setTimeout(resolve, 50));  // observers report asynchronously
  root.remove();
  return { streamed, elapsed, final: renders - streamed, text: body.textContent };
}"""
)


def test_tokens_are_rendered_in_batches_not_one_by_one(page):
    wait_until_ready(page)
    result = page.evaluate(FEED_TOKENS)
    # 1-2 s of tokens, rebuilt at most once an interval (chat.js RENDER_INTERVAL_MS): a few
    # renders, not 300.
    interval = page.evaluate("import('/js/chat.js').then((m) => m.RENDER_INTERVAL_MS)")
    most = result["elapsed"] / interval + 2
    assert 2 <= result["streamed"] <= most, (result, interval)
    assert result["final"] == 1
    text = result["text"].strip()
    assert text.startswith("word0 word1") and text.endswith("word99 " + "x" * 200)


# The real ChatView in a short list, fed a long reply a sentence a frame; then the user
# scrolls up and more comes.
FOLLOW_REPLY = (
    """async () => {"""
    + STANDALONE_REPLY
    + """
  root.className = 'messages';
  root.style.cssText = 'position: fixed; left: 0; top: 0; width: 600px; height: 300px; z-index: 9';
  const meta = node.querySelector('.message-meta');
  const frame = () => new Promise((resolve) => setTimeout(resolve, 250));
  const frames = [];
  for (let i = 0; i < 40; i++) {
    view.appendToken(`Sentence ${i} of a long reply that keeps going and going. `);
    await frame();
    const box = root.getBoundingClientRect();
    const end = meta.getBoundingClientRect();
    frames.push({ top: root.scrollTop, inView: end.bottom <= box.bottom && end.top >= box.top,
                  overflows: root.scrollHeight > root.clientHeight });
  }
  root.scrollTop = 0; // the user scrolls up to read
  for (let i = 0; i < 5; i++) {
    view.appendToken('More text. ');
    await frame();
  }
  const stayed = root.scrollTop === 0;
  view.finishReply({ stopped: false, stats: null, message: null });
  view.buildMessage('user', 'Next question', 'done');
  const roomLeft = [...root.querySelectorAll('.message')].some((m) => m.style.minHeight);
  root.remove();
  return { frames, stayed, roomLeft };
}"""
)


def test_a_long_reply_is_followed_a_third_of_a_screen_at_a_time(page):
    wait_until_ready(page)
    result = page.evaluate(FOLLOW_REPLY)
    frames = result["frames"]
    assert frames[-1]["overflows"]
    assert all(f["inView"] for f in frames), frames  # the end of the reply is always in view
    moves = sum(1 for a, b in itertools.pairwise(frames) if a["top"] != b["top"])
    # It moves in steps, not with every frame (each move repaints the whole list).
    assert 2 <= moves <= len(frames) / 3, frames
    assert result["stayed"]  # a user who scrolled up is not pulled back down
    assert not result["roomLeft"]  # the room below a reply goes with the next message


# Markdown fed to the streaming render in pieces of 7 characters: a heading, paragraphs, a
# list, a fenced code block and a table. After each piece the streamed DOM must equal a whole
# render of the same text, and the first paragraph's node must be the one drawn first.
FEED_MARKDOWN = """async ({ step }) => {
  const { renderMarkdown } = await import('/js/markdown.js');
  const text = [
    '# Trip', 'First paragraph, *kept* once written.', 'Second one, with `code`, **bold** and ' +
    'a [link](https://example.org) in a line that goes on\\nand on.',
    '- one\\n- two **2**\\n- three', '```python\\nprint(1)\\nprint(2)\\n```',
    '| a | b |\\n|---|---|\\n| 1 | 2 |', '> quoted\\n> more', 'Heading\\n---', 'The end & <b>.',
  ].join('\\n\\n');
  const streamed = document.createElement('div');
  const differences = [];
  let first = null;
  let firstKept = true;
  let textNode = null; // the growing paragraph's first words, once drawn
  let textKept = true;
  for (let end = step; end < text.length + step; end += step) {
    const piece = text.slice(0, end);
    renderMarkdown(streamed, piece, { final: false });
    const whole = document.createElement('div'); // a container never drawn into: a whole render
    renderMarkdown(whole, piece, { final: false });
    if (streamed.innerHTML !== whole.innerHTML) differences.push(piece);
    const paragraph = [...streamed.querySelectorAll('p')]
      .find((p) => p.textContent.startsWith('First paragraph, kept'));
    if (paragraph && text.slice(0, end).includes('Second')) {
      first ??= paragraph;
      firstKept &&= paragraph === first;
    }
    const growing = [...streamed.querySelectorAll('p')]
      .find((p) => p.textContent.startsWith('Second'));
    if (growing && piece.includes('in a line') && !piece.includes('and on')) {
      textNode ??= growing.lastChild.previousSibling ?? growing.lastChild;
      textKept &&= growing.contains(textNode);
    }
  }
  renderMarkdown(streamed, text, { final: true });
  const finalWhole = document.createElement('div');
  renderMarkdown(finalWhole, text, { final: true });
  return { differences, firstKept, sawFirst: first !== null, textKept, sawText: textNode !== null,
           finalSame: streamed.innerHTML === finalWhole.innerHTML };
}"""


@pytest.mark.parametrize("step", [1, 3, 7, 20])
def test_streaming_markdown_keeps_finished_blocks_and_draws_what_a_whole_render_draws(page, step):
    wait_until_ready(page)
    result = page.evaluate(FEED_MARKDOWN, {"step": step})
    assert result["differences"] == []
    assert result["sawFirst"] and result["firstKept"]
    # A paragraph that grows keeps the words it has drawn: only new words are drawn.
    assert result["sawText"] and result["textKept"]
    assert result["finalSame"]


def wait_for_reply(page: Page, index: int = 0):
    reply = page.get_by_test_id("message-assistant").nth(index)
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    return reply


def conversation_messages(page: Page) -> list[dict]:
    conversation_id = api_call(page, "list_conversations")[0]["id"]
    return api_call(page, "get_conversation", conversation_id=conversation_id)["messages"]


def wait_until(page: Page, ready, timeout: float = REPLY_TIMEOUT / 1000) -> list[dict]:
    """The open conversation's messages, once ``ready(messages)`` holds and nothing is busy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = conversation_messages(page)
        if not api_call(page, "get_status")["busy"] and ready(messages):
            return messages
        page.wait_for_timeout(100)
    raise AssertionError(f"the conversation never got there: {messages}")


def test_regenerate_then_edit_and_resend_replace_later_turns(page):
    wait_until_ready(page)
    send(page, "Name a color.")
    wait_for_reply(page)
    send(page, "Name a fruit.")
    last = wait_for_reply(page, 1)
    # Only the last reply offers Regenerate.
    expect(page.get_by_role("button", name="Regenerate reply")).to_have_count(1)
    before = conversation_messages(page)
    last.get_by_role("button", name="Regenerate reply").click()
    after = wait_until(page, lambda messages: len(messages) == 4 and messages[3] != before[3])
    expect(page.get_by_test_id("message-assistant")).to_have_count(2)
    expect(wait_for_reply(page, 1)).to_have_attribute("data-message-id", str(after[3]["id"]))
    assert [m["role"] for m in after] == ["user", "assistant", "user", "assistant"]
    assert after[:3] == before[:3]
    assert after[3]["id"] != before[3]["id"]  # a new reply replaced the old one

    first = page.get_by_test_id("message-user").first
    first.get_by_role("button", name="Edit message").click()
    editor = first.get_by_role("textbox", name="Edit your message")
    expect(editor).to_have_value("Name a color.")
    editor.fill("Name an animal.")
    first.get_by_role("button", name="Save and send").click()
    expect(page.get_by_test_id("message-user")).to_have_count(1)
    expect(page.get_by_test_id("message-user").get_by_test_id("message-text")).to_have_text(
        "Name an animal."
    )
    reply = wait_for_reply(page)
    expect(page.get_by_test_id("message-assistant")).to_have_count(1)
    expect(reply.get_by_test_id("message-meta")).to_contain_text("tok/s")
    edited = conversation_messages(page)
    assert [(m["role"], m["id"]) for m in edited][:1] == [("user", before[0]["id"])]
    assert len(edited) == 2 and edited[0]["content"] == "Name an animal."
    stats = edited[1]["meta"]["stats"]
    used = stats["prompt_tokens"] + stats["completion_tokens"]
    expect(page.get_by_test_id("context-text")).to_contain_text(f"context {used:,} /")

    # Cancel leaves the message as it was.
    page.get_by_role("button", name="Edit message").click()
    page.get_by_role("textbox", name="Edit your message").fill("something else")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("message-user").get_by_test_id("message-text")).to_have_text(
        "Name an animal."
    )


def test_search_rename_and_delete_with_undo(page, served):
    seed_conversation(served.paths, "Trip ideas", [{"role": "user", "content": "A week in Rome?"}])
    seed_conversation(served.paths, "Shopping", [{"role": "user", "content": "milk and bread"}])
    seed_markdown_chat(served, "Python help")
    open_fresh(page)
    items = page.get_by_test_id("conversation-item")
    expect(items).to_have_count(3)

    page.keyboard.press("Control+k")
    search = page.get_by_role("searchbox", name="Search conversations")
    expect(search).to_be_focused()
    search.fill("rome")
    expect(items).to_have_count(1)
    expect(items.get_by_test_id("search-snippet")).to_have_text("A week in Rome?")
    search.fill("python")  # by title
    expect(items).to_have_count(1)
    expect(items).to_contain_text("Python help")
    search.fill("nothing like this")
    expect(page.get_by_test_id("conversation-list-empty")).to_have_text("No conversations match.")
    search.press("Escape")
    expect(search).to_have_value("")
    expect(items).to_have_count(3)

    page.get_by_role("button", name="Shopping").click()
    page.get_by_role("button", name="Rename conversation").click()
    page.get_by_role("dialog").get_by_role("textbox").fill("Groceries")
    page.get_by_role("dialog").get_by_role("button", name="Rename").click()
    expect(page.get_by_test_id("chat-title")).to_have_text("Groceries")

    page.get_by_role("button", name="Delete conversation").click()
    expect(items).to_have_count(2)
    expect(page.get_by_test_id("notice-text")).to_have_text("Deleted “Groceries”.")
    page.get_by_role("button", name="Undo").click()
    expect(items).to_have_count(3)
    expect(page.get_by_test_id("chat-title")).to_have_text("Groceries")
    expect(page.get_by_test_id("message-user")).to_have_text("You" + "milk and bread" + "CopyEdit")

    page.get_by_role("button", name="Delete conversation").click()
    expect(items).to_have_count(2)
    open_fresh(page)
    expect(items).to_have_count(2)
    expect(page.get_by_role("button", name="Groceries")).to_have_count(0)


def test_export_markdown_and_json_then_import_and_refuse_a_bad_file(page, served, tmp_path):
    messages = [
        {"role": "user", "content": "read a.txt"},
        {"role": "assistant", "content": "It says hi.", "meta": {"tool_calls": [TOOL_CALL]}},
    ]
    seed_conversation(served.paths, "Files: a/b", messages)
    open_fresh(page)

    with page.expect_download() as markdown_download:
        page.get_by_role("button", name="Export as Markdown").click()
    assert markdown_download.value.suggested_filename == "Files a b.md"
    markdown = Path(markdown_download.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# Files: a/b\n")
    assert "## You\n\nread a.txt\n\n## Assistant\n\nIt says hi." in markdown

    with page.expect_download() as json_download:
        page.get_by_role("button", name="Export as JSON").click()
    exported = json.loads(Path(json_download.value.path()).read_text(encoding="utf-8"))
    assert exported["title"] == "Files: a/b"
    assert [(m["role"], m["content"], m["meta"]) for m in exported["messages"]] == [
        ("user", "read a.txt", {}),
        ("assistant", "It says hi.", {"tool_calls": [TOOL_CALL]}),
    ]

    page.get_by_test_id("import-file").set_input_files(json_download.value.path())
    expect(page.get_by_test_id("conversation-item")).to_have_count(2)
    # The copy beside its original is marked, so the two titles can be told apart.
    expect(page.get_by_test_id("notice-text")).to_have_text("Imported “Files: a/b (imported)”.")
    expect(page.get_by_test_id("notice")).to_have_attribute("data-kind", "success")
    expect(page.get_by_test_id("tool-card")).to_contain_text("read_file")
    expect(page.get_by_test_id("tool-card")).to_contain_text("path: a.txt")

    bad = tmp_path / "bad.json"
    bad.write_text(export_document("Bad", [{"role": "system", "content": "x"}]))
    page.get_by_test_id("import-file").set_input_files(str(bad))
    expect(page.get_by_test_id("notice-text")).to_contain_text(
        "Could not import bad.json: The conversation file is damaged: messages.0.role"
    )
    not_json = tmp_path / "notes.json"
    not_json.write_text("hello")
    page.get_by_test_id("import-file").set_input_files(str(not_json))
    expect(page.get_by_test_id("notice-text")).to_contain_text("is not valid JSON")
    expect(page.get_by_test_id("conversation-item")).to_have_count(2)


def test_keyboard_new_chat_and_search(page, served):
    seed_markdown_chat(served)
    open_fresh(page)
    expect(page.get_by_test_id("chat-title")).to_have_text("Adding numbers")
    page.get_by_role("textbox", name="Message").press("Control+n")
    expect(page.get_by_test_id("chat-title")).to_have_text("New chat")
    expect(page.get_by_test_id("welcome")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_focused()
    page.keyboard.press("Meta+k")  # Cmd on a Mac
    expect(page.get_by_role("searchbox", name="Search conversations")).to_be_focused()


def wait_for_welcome_dismissed(page: Page, timeout: float = 5.0) -> None:
    """The page saves the choice in the background, after acting on it."""
    deadline = time.monotonic() + timeout
    while api_call(page, "app_info")["show_welcome"]:
        assert time.monotonic() < deadline, "the welcome was never marked as seen"
        page.wait_for_timeout(50)


def test_first_launch_welcome_is_skippable_and_shown_once(page, served):
    wait_until_ready(page)
    welcome = page.get_by_role("region", name="Welcome to LocalWork Hero")
    expect(welcome).to_be_visible()
    expect(welcome).to_contain_text("SmolLM2 135M Instruct")
    welcome.get_by_role("button", name="Skip").click()
    expect(welcome).to_be_hidden()
    wait_for_welcome_dismissed(page)
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    open_fresh(page)
    expect(welcome).to_be_hidden()
    assert json.loads(served.paths.settings_file.read_text())["welcome_seen"] is True


def test_welcome_choices_open_models_or_folders(page):
    wait_until_ready(page)
    welcome = page.get_by_role("region", name="Welcome to LocalWork Hero")
    welcome.get_by_role("button", name="Grant a folder").click()
    expect(page.get_by_test_id("folders-dialog")).to_be_visible()
    expect(welcome).to_be_hidden()
    wait_for_welcome_dismissed(page)


def test_the_recommended_model_offline_does_not_dismiss_the_welcome_for_good(page, artifacts_dir):
    """The tests' Hub is out of reach: nothing can be fetched, so the welcome stays owed."""
    wait_until_ready(page)
    welcome = page.get_by_role("region", name="Welcome to LocalWork Hero")
    page.screenshot(path=str(artifacts_dir / "welcome.png"))
    welcome.get_by_role("button", name="Get the recommended model").click()
    pane = page.get_by_test_id("models-pane")
    expect(pane).to_be_visible()
    expect(welcome).to_be_hidden()
    expect(pane.get_by_test_id("catalog-message")).to_contain_text("Cannot reach")
    page.wait_for_timeout(500)  # the page would have saved the dismissal by now
    assert api_call(page, "app_info")["show_welcome"] is True
    open_fresh(page)
    expect(welcome).to_be_visible()


def test_the_welcome_does_not_return_on_every_new_chat(page):
    wait_until_ready(page)
    welcome = page.get_by_role("region", name="Welcome to LocalWork Hero")
    expect(welcome).to_be_visible()
    send(page, "Hello")
    expect(page.get_by_test_id("message-assistant")).to_have_attribute(
        "data-state", "done", timeout=REPLY_TIMEOUT
    )
    for _ in range(2):
        page.get_by_role("button", name="New chat").click()
        expect(page.get_by_test_id("welcome")).to_be_visible()  # the plain empty chat
        expect(welcome).to_be_hidden()
