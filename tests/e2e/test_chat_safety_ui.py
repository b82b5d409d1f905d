"""Everything the model writes is untrusted: hostile payloads through every way in.

Payloads arrive through a reply, a tool result, a file name and an imported conversation.
Each test asserts that no script ran (a flag the payloads would set, and no dialog), that
no active element or remote source reached the page, and (through the page fixture's
route guard) that no request left 127.0.0.1.
"""

import subprocess
import time

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import localwork_command
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import wait_until_ready
from tests.support.seed import export_document, install_link_recorder, seed_conversation

PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=2</script>",
    '<svg onload="window.__xss=3"><script>window.__xss=4</script></svg>',
    '<iframe src="javascript:top.__xss=5"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=6</script>"></iframe>',
    "[markdown js link](javascript:window.__xss=7)",
    "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg==)",
    "![remote image](http://evil.example/track.png)",
    '<a href="javascript:window.__xss=9">html js link</a>',
    "<style>body{background:url(http://evil.example/bg.png)}</style>",
    '<div style="background:url(http://evil.example/css.png)">styled div</div>',
    '<details open ontoggle="window.__xss=10">details</details>',
    '<math><mtext><table><mglyph><style><img src=x onerror="window.__xss=11">',
    '<form action="http://evil.example"><button>go</button></form>',
    '<object data="http://evil.example/x.swf"></object>',
    '<link rel=stylesheet href="http://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=http://evil.example">',
    "<javascript:window.__xss=12>",
    "`<img src=x onerror=window.__xss=13>` in code",
    "[safe link](https://example.com/docs?a=1)",
]
FENCE = "```html\n<script>window.__xss=14</script>\n```"
HOSTILE_REPLY = "\n\n".join([*(f"{n}. {p}" for n, p in enumerate(PAYLOADS, 1)), FENCE])
FILE_NAME = "<img src=x onerror=window.__xss=20>.txt"
TOOL_CALL = {
    "tool": "<svg onload=window.__xss=30>",
    "arguments": {"path": '<img src=x onerror="window.__xss=31">'},
    "status": "<b>ok</b>",
    "result": "<script>window.__xss=32</script><img src=http://evil.example/t.png>",
}

WATCH_FOR_SCRIPT = """() => {
  window.__dialogs = 0;
  window.__violations = [];
  document.addEventListener('securitypolicyviolation',
    (event) => window.__violations.push(event.blockedURI));
}"""

# Elements and attributes that could run script, load something or restyle the page.
ACTIVE_CONTENT = """(selector) => {
  const tags = ['script', 'iframe', 'object', 'embed', 'svg', 'style', 'form', 'link', 'meta',
                'math', 'base'];
  const found = [];
  for (const root of document.querySelectorAll(selector)) {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (tags.includes(tag)) found.push(tag);
      for (const { name, value } of el.attributes) {
        if (name.startsWith('on') || name === 'style' || name === 'srcdoc') {
          found.push(`${tag}[${name}]`);
        }
        if (/^\\s*(javascript|data:text)/i.test(value)) found.push(`${tag}[${name}=${value}]`);
      }
      if (tag === 'img' && el.getAttribute('src')) found.push(`img[src=${el.getAttribute('src')}]`);
    }
  }
  return found;
}"""
CHAT_PARTS = (
    '[data-testid="messages"], [data-testid="conversation-list"], [data-testid="chat-title"]'
)


@pytest.fixture(autouse=True)
def link_recorder(tmp_path, monkeypatch):
    """The served app's system browser: records links (set before the server starts)."""
    browser, opened = install_link_recorder(tmp_path)
    monkeypatch.setenv("BROWSER", browser)
    return opened


def assert_no_script_ran(page: Page, selector: str = CHAT_PARTS) -> None:
    assert page.evaluate("window.__xss") is None, "a payload ran script"
    assert page.evaluate("window.__dialogs") == 0
    assert page.evaluate(ACTIVE_CONTENT, selector) == []


def wait_for_file(path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} was never written"


def watch(page: Page) -> None:
    page.evaluate(WATCH_FOR_SCRIPT)
    page.on("dialog", lambda dialog: (page.evaluate("window.__dialogs++"), dialog.dismiss()))


def test_a_hostile_reply_renders_as_inert_text_and_links_open_outside(
    page, served, link_recorder, artifacts_dir
):
    messages = [
        {"role": "user", "content": HOSTILE_REPLY},
        {"role": "assistant", "content": HOSTILE_REPLY, "meta": {}},
    ]
    seed_conversation(served.paths, "Hostile reply", messages)
    page.reload()
    wait_until_ready(page)
    watch(page)
    reply = page.get_by_test_id("message-assistant").get_by_test_id("message-text")
    # Raw HTML shows as the text it is; Markdown still renders.
    expect(reply).to_contain_text("<script>window.__xss=2</script>")
    expect(reply).to_contain_text('<iframe srcdoc="<script>parent.__xss=6</script>"></iframe>')
    expect(reply.locator(".code-block code.language-html")).to_contain_text("<script>")
    expect(reply.locator("ol > li")).to_have_count(len(PAYLOADS))
    expect(reply.locator("img")).to_have_count(0)
    expect(reply.locator(".blocked-image")).to_have_text("[image not loaded: remote image]")
    expect(reply.locator("a:not([href])")).to_have_count(3)  # javascript: and data: links, inert
    expect(page.get_by_test_id("message-user").get_by_test_id("message-text")).to_have_text(
        HOSTILE_REPLY
    )
    page.screenshot(path=str(artifacts_dir / "hostile-reply.png"), full_page=True)

    url = page.url
    for name in ("markdown js link", "data link", "html js link", "safe link"):
        links = reply.get_by_text(name, exact=True)
        if links.count():
            links.first.click()
    expect(page).to_have_url(url)
    assert len(page.context.pages) == 1
    wait_for_file(link_recorder)
    page.wait_for_timeout(300)  # any further (wrong) link would have been recorded by now
    assert link_recorder.read_text().splitlines() == ["https://example.com/docs?a=1"]
    assert_no_script_ran(page)
    assert page.evaluate("window.__violations") == []  # nothing even tried to load


def test_a_hostile_tool_result_is_shown_as_text(page, served):
    messages = [
        {"role": "user", "content": "read it"},
        {"role": "assistant", "content": "Done.", "meta": {"tool_calls": [TOOL_CALL]}},
    ]
    seed_conversation(served.paths, "Hostile tool", messages)
    page.reload()
    wait_until_ready(page)
    watch(page)
    card = page.get_by_test_id("tool-card")
    expect(card.locator(".tool-name")).to_have_text("<svg onload=window.__xss=30>")
    expect(card.get_by_test_id("tool-status")).to_have_text("<b>ok</b>")
    expect(card).to_contain_text('path: <img src=x onerror="window.__xss=31">')
    card.locator("summary").first.click()
    expect(card.get_by_test_id("tool-result")).to_contain_text(
        "<script>window.__xss=32</script><img src=http://evil.example"
    )
    assert_no_script_ran(page)


def test_hostile_file_and_folder_names_stay_text(page, served, tmp_path):
    work = tmp_path / '<svg onload="window.__xss=40">'
    work.mkdir()
    command = localwork_command(
        "tool",
        "write_file",
        f'{{"path": "{FILE_NAME}", "content": "x"}}',
        "--grant",
        f"{work}:rw",
        "--yes",
        "--data-dir",
        str(served.paths.data_dir),
    )
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (work / FILE_NAME).read_text() == "x"
    wait_until_ready(page)
    watch(page)
    api_call(page, "add_grant", path=str(work), mode="ro")

    page.get_by_role("button", name="Folders").click()
    folders = page.get_by_role("dialog", name="Folders")
    expect(folders.get_by_test_id("grant-item")).to_contain_text(str(work))
    folders.get_by_role("button", name="Close").click()

    page.get_by_role("button", name="Activity").click()
    activity = page.get_by_role("dialog", name="Activity")
    expect(activity.get_by_test_id("activity-item").first).to_contain_text(FILE_NAME)
    assert_no_script_ran(page, '[data-testid="grant-list"], [data-testid="activity-list"]')


def test_a_hostile_imported_conversation_is_inert(page, tmp_path):
    title = '<img src=x onerror="window.__xss=50">'
    document = export_document(
        title,
        [
            {"role": "user", "content": "<script>window.__xss=51</script>", "meta": {}},
            {"role": "assistant", "content": HOSTILE_REPLY, "meta": {"tool_calls": [TOOL_CALL]}},
        ],
    )
    upload = tmp_path / '<svg onload="window.__xss=52">.json'
    upload.write_text(document)
    wait_until_ready(page)
    watch(page)
    page.get_by_test_id("import-file").set_input_files(str(upload))
    expect(page.get_by_test_id("chat-title")).to_have_text(title)
    expect(page.get_by_role("button", name=title)).to_be_visible()
    expect(page.get_by_test_id("message-assistant").get_by_test_id("message-text")).to_contain_text(
        "<script>window.__xss=2</script>"
    )
    expect(page.get_by_test_id("notice-text")).to_contain_text(f"Imported “{title}”")
    assert_no_script_ran(page)
