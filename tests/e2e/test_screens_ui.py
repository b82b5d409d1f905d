"""The main screens in light and dark, at 1280x800 and 800x600: readable, nothing cut off,
every control named, focus visible. Screenshots are kept in test-artifacts/ for review."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_chat_ui import wait_until_ready
from tests.support.seed import seed_conversation

SIZES = [(1280, 800), (800, 600)]
THEMES = ["light", "dark"]
REPLY = """Here is a plan and a snippet.

| Step | What |
|---|---|
| 1 | Read the file |
| 2 | Summarize it |

```python
from pathlib import Path

def words(path: str) -> int:
    return len(Path(path).read_text().split())
```

See [the docs](https://docs.python.org/3/) for more."""
TOOL_CALL = {"tool": "read_file", "arguments": {"path": "notes.txt"}, "status": "ok", "result": "…"}

# Whether an element's text could be read by a screen reader as its name.
UNNAMED_CONTROLS = """() => {
  const named = (el) => {
    if (el.getAttribute('aria-label')?.trim()) return true;
    const by = el.getAttribute('aria-labelledby');
    const labelledBy = (id) => document.getElementById(id)?.textContent.trim();
    if (by && by.split(' ').some(labelledBy)) return true;
    if (el.labels && [...el.labels].some((label) => label.textContent.trim())) return true;
    return Boolean(el.textContent.trim() || el.getAttribute('title'));
  };
  const controls = document.querySelectorAll(
    'button, input, textarea, select, meter, a[href], dialog, [role="group"], section');
  // A control hidden with the attribute is out of the accessibility tree until it is filled in.
  return [...controls].filter((el) => !el.hidden && !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
}"""

LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = window.innerWidth, height = window.innerHeight;
  if (document.documentElement.scrollWidth > width) problems.push('page scrolls sideways');
  for (const id of ['composer-input', 'send-button', 'chat-title', 'status', 'new-chat-button']) {
    const box = document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
    const outside = box.left < 0 || box.right > width || box.top < 0 || box.bottom > height;
    if (outside || box.width === 0) {
      problems.push(`${id} is outside the window: ${JSON.stringify(box)}`);
    }
  }
  for (const button of document.querySelectorAll('.chat-actions button:not([hidden])')) {
    const box = button.getBoundingClientRect();
    if (box.right > width) problems.push(`${button.textContent} is cut off`);
  }
  return problems;
}"""

BACKGROUND_LIGHTNESS = """() => {
  const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}"""


def show(page: Page, theme: str, size: tuple[int, int]) -> None:
    page.emulate_media(color_scheme=theme)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    lightness = page.evaluate(BACKGROUND_LIGHTNESS)
    assert lightness > 0.8 if theme == "light" else lightness < 0.2, (theme, lightness)
    assert page.evaluate(LAYOUT_PROBLEMS) == []


@pytest.mark.parametrize("theme", THEMES)
def test_main_screens_in_both_themes_and_sizes(page, served, artifacts_dir, theme):
    wait_until_ready(page)
    for size in SIZES:
        show(page, theme, size)
        expect(page.get_by_test_id("first-run")).to_be_visible()
        page.screenshot(path=str(artifacts_dir / f"welcome-{theme}-{size[0]}x{size[1]}.png"))

    seed_conversation(
        served.paths,
        "Count the words in my notes",
        [
            {"role": "user", "content": "How do I count the words in notes.txt?"},
            {
                "role": "assistant",
                "content": REPLY,
                "meta": {
                    "stats": {
                        "prompt_tokens": 412,
                        "completion_tokens": 96,
                        "tokens_per_second": 61.3,
                    },
                    "tool_calls": [TOOL_CALL],
                },
            },
        ],
    )
    seed_conversation(served.paths, "Weekend plans", [{"role": "user", "content": "Ideas?"}])
    page.reload()
    wait_until_ready(page)
    page.get_by_role("button", name="Count the words in my notes").click()
    expect(page.locator(".hljs-keyword").first).to_be_visible()
    for size in SIZES:
        show(page, theme, size)
        page.screenshot(path=str(artifacts_dir / f"chat-{theme}-{size[0]}x{size[1]}.png"))

    page.keyboard.press("Control+k")
    page.keyboard.type("notes")
    expect(page.get_by_test_id("search-snippet")).to_be_visible()
    for size in SIZES:
        show(page, theme, size)
        page.screenshot(path=str(artifacts_dir / f"search-{theme}-{size[0]}x{size[1]}.png"))


def test_every_control_has_a_name_and_focus_is_visible(page, served):
    seed_conversation(
        served.paths,
        "Named",
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": REPLY, "meta": {"tool_calls": [TOOL_CALL]}},
        ],
    )
    page.reload()
    wait_until_ready(page)
    assert page.evaluate(UNNAMED_CONTROLS) == []
    expect(page.get_by_role("navigation", name="Conversations")).to_be_visible()
    expect(page.get_by_role("main", name="Chat")).to_be_visible()
    expect(page.get_by_role("search")).to_be_visible()
    expect(page.get_by_role("status")).to_be_visible()

    page.get_by_role("button", name="New chat").focus()
    seen = set()
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const el = document.activeElement;
              if (el === document.body) return null;  // past the last control
              const style = getComputedStyle(el);
              return {name: el.getAttribute('aria-label') || el.labels?.[0]?.textContent.trim()
                            || el.textContent.trim().slice(0, 40),
                      outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
            }"""
        )
        if focused is None:
            break
        seen.add(focused["name"])
        assert focused["outline"] != "none" and focused["width"] >= 2, focused
    # The walk went through the sidebar, the reply's controls and the composer.
    assert {"Search conversations", "Copy code", "Regenerate reply", "Message"} <= seen, seen
