"""Tools & MCP servers in the real UI, against real MCP servers written by others
(mcp-server-time from PyPI, @modelcontextprotocol/server-everything from npm): add one in the
dialog and see its tools, set a tool's policy and reset it to the server's hint, import an
mcpServers document, a command that does not exist, what the tool list costs; and a chat in
which the scripted engine calls MCP tools and the cards show their results (an image as a
data: URL, structured content, the server's own error)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.agent.conftest import guided
from tests.e2e.conftest import api_call
from tests.e2e.test_chat_ui import REPLY_TIMEOUT, send, wait_until_ready
from tests.support.mcp_servers import everything_script, node, python_server
from tests.support.scripted_engine import add_replies

SHOTS = Path("/work/notes/shots")
START_TIMEOUT = 60_000


def shot(page: Page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / f"{name}.png"))
    if SHOTS.is_dir():  # the project's notes, when this runs beside them
        shutil.copy(artifacts_dir / f"{name}.png", SHOTS / f"{name}.png")


def open_dialog(page: Page) -> Locator:
    page.get_by_test_id("mcp-button").click()
    dialog = page.get_by_role("dialog", name="Tools & MCP servers")
    expect(dialog).to_be_visible()
    return dialog


def server(dialog: Locator, name: str) -> Locator:
    return dialog.locator(f'[data-testid="mcp-server"][data-name="{name}"]')


def add_stdio(dialog: Locator, name: str, command: str, args: str = "", env: str = "") -> None:
    dialog.get_by_test_id("mcp-add-name").fill(name)
    dialog.get_by_test_id("mcp-add-command").fill(command)
    dialog.get_by_test_id("mcp-add-args").fill(args)
    dialog.get_by_test_id("mcp-add-env").fill(env)
    dialog.get_by_test_id("mcp-add-submit").click()


def test_add_a_real_server_set_its_tools_policies_and_see_a_failing_one(
    page, served, artifacts_dir
):
    wait_until_ready(page)
    dialog = open_dialog(page)
    expect(dialog.get_by_test_id("mcp-empty")).to_be_visible()
    secret = "sk-typed-once-0123456789"
    time_command = python_server("mcp-server-time")
    add_stdio(dialog, "time", time_command, "--local-timezone 'Europe/Paris'", f"API_KEY={secret}")
    time = server(dialog, "time")
    expect(time.get_by_test_id("mcp-state")).to_have_text("ready (2 tools)", timeout=START_TIMEOUT)
    expect(time.get_by_test_id("mcp-state")).to_have_attribute("data-state", "ready")
    expect(time.get_by_test_id("mcp-tool")).to_have_count(2)
    # The arguments were split like a shell's; the secret comes back masked, never as typed.
    expect(time.get_by_test_id("mcp-command")).to_contain_text("--local-timezone Europe/Paris")
    expect(time.get_by_test_id("mcp-command")).to_contain_text("API_KEY=")
    assert secret not in dialog.inner_text()
    assert dialog.get_by_test_id("mcp-add-env").input_value() == ""
    (listed,) = api_call(page, "mcp_servers")["servers"]
    assert listed["args"] == ["--local-timezone", "Europe/Paris"]

    # The cost of the tool list, against the loaded model's context.
    cost = dialog.get_by_test_id("mcp-cost")
    expect(cost).to_contain_text("The 2 offered tools cost")
    expect(cost).to_contain_text("-token context")

    # A tool's policy: chosen, then back to the default: the time server calls its tools
    # read-only, so that is Allow, marked as the hint's choice.
    tool = time.locator('[data-testid="mcp-tool"][data-tool="convert_time"]')
    tool.get_by_test_id("mcp-tool-policy").select_option("off")
    expect(dialog.get_by_test_id("mcp-message")).to_have_text(
        "convert_time is not offered to the model."
    )
    expect(cost).to_contain_text("The 1 offered tool costs")
    tools = {each["name"]: each for each in api_call(page, "mcp_servers")["servers"][0]["tools"]}
    assert tools["convert_time"]["chosen"] == "off"
    expect(tool.get_by_test_id("mcp-tool-hint")).to_have_count(0)
    tool.get_by_test_id("mcp-tool-reset").click()
    expect(tool.get_by_test_id("mcp-tool-policy")).to_have_value("allow")
    expect(tool.get_by_test_id("mcp-tool-hint")).to_have_text("read-only hint")
    expect(tool.get_by_test_id("mcp-tool-reset")).to_have_count(0)
    tools = {each["name"]: each for each in api_call(page, "mcp_servers")["servers"][0]["tools"]}
    assert tools["convert_time"]["chosen"] is None

    # A command that does not exist: why, and what to do.
    add_stdio(dialog, "broken", "no-such-mcp-server-here")
    broken = server(dialog, "broken")
    expect(broken.get_by_test_id("mcp-state")).to_contain_text(
        "failed: command not found", timeout=START_TIMEOUT
    )
    expect(broken.get_by_test_id("mcp-state")).to_have_attribute("data-state", "failed")
    expect(broken.get_by_test_id("mcp-advice")).to_be_visible()

    # Off: not offered; the timeout and when it starts are kept.
    broken.get_by_test_id("mcp-enabled").uncheck()
    expect(broken.get_by_test_id("mcp-state")).to_have_text("off")
    expect(dialog.get_by_test_id("mcp-message")).to_have_text(
        "broken is off: its tools are not offered."
    )
    time.get_by_test_id("mcp-timeout").fill("45")
    time.get_by_test_id("mcp-timeout").press("Tab")
    expect(dialog.get_by_test_id("mcp-message")).to_contain_text("45 seconds")
    time.get_by_test_id("mcp-start").select_option("at_launch")
    expect(dialog.get_by_test_id("mcp-message")).to_contain_text("when the app starts")
    listed = {each["name"]: each for each in api_call(page, "mcp_servers")["servers"]}
    assert (listed["time"]["timeout"], listed["time"]["start"]) == (45, "at_launch")
    assert listed["broken"]["enabled"] is False

    # Remove asks first.
    broken.get_by_test_id("mcp-remove").click()
    page.get_by_test_id("dialog-confirm").click()
    expect(server(dialog, "broken")).to_have_count(0)
    shot(page, artifacts_dir, "mcp-pane-one")


def test_import_an_mcp_servers_document_and_see_the_everything_servers_hints(
    page, served, artifacts_dir
):
    wait_until_ready(page)
    dialog = open_dialog(page)
    add_stdio(dialog, "time", python_server("mcp-server-time"))
    expect(server(dialog, "time").get_by_test_id("mcp-state")).to_have_text(
        "ready (2 tools)", timeout=START_TIMEOUT
    )
    document = {
        "mcpServers": {
            "time": {"command": "uvx", "args": ["mcp-server-time"]},
            "everything": {"command": node(), "args": [str(everything_script()), "stdio"]},
            "missing": {"command": "no-such-mcp-command"},
        }
    }
    dialog.get_by_test_id("mcp-import-text").fill(json.dumps(document))
    dialog.get_by_test_id("mcp-import-submit").click()
    expect(dialog.get_by_test_id("mcp-import-added")).to_have_text(
        ["Added everything", "Added missing"]
    )
    expect(dialog.get_by_test_id("mcp-import-skipped")).to_have_text(
        "Skipped time: a server of that name exists already"
    )
    everything = server(dialog, "everything")
    expect(everything.get_by_test_id("mcp-state")).to_contain_text("ready (", timeout=START_TIMEOUT)
    missing = server(dialog, "missing")
    expect(missing.get_by_test_id("mcp-state")).to_contain_text(
        "failed: command not found", timeout=START_TIMEOUT
    )
    expect(missing.get_by_test_id("mcp-advice")).to_be_visible()

    # A long tool list comes folded. A tool the server calls read-only is preselected Allow,
    # marked as the hint's choice.
    expect(everything.get_by_test_id("mcp-tools-fold")).not_to_have_attribute("open", "")
    everything.get_by_test_id("mcp-tools-toggle").click()
    hinted = [t for t in listing(page, "everything")["tools"] if t["read_only_hint"]]
    assert hinted, "server-everything marks some tools read-only"
    name = hinted[0]["name"]
    tool = everything.locator(f'[data-testid="mcp-tool"][data-tool="{name}"]')
    expect(tool.get_by_test_id("mcp-tool-policy")).to_have_value("allow")
    expect(tool.get_by_test_id("mcp-tool-hint")).to_have_text("read-only hint")
    tool.get_by_test_id("mcp-tool-policy").select_option("ask")
    expect(dialog.get_by_test_id("mcp-message")).to_have_text(f"{name} asks you first.")
    expect(tool.get_by_test_id("mcp-tool-hint")).to_have_count(0)
    tool.get_by_test_id("mcp-tool-reset").click()
    expect(tool.get_by_test_id("mcp-tool-policy")).to_have_value("allow")
    expect(tool.get_by_test_id("mcp-tool-hint")).to_be_visible()

    # Two servers, one ready with its tools, one failed: the pane as the user sees it.
    for name in ("everything", "missing"):
        server(dialog, name).get_by_test_id("mcp-remove").click()
        page.get_by_test_id("dialog-confirm").click()
        expect(server(dialog, name)).to_have_count(0)
    add_stdio(dialog, "broken", "no-such-mcp-server-here")
    expect(server(dialog, "broken").get_by_test_id("mcp-state")).to_contain_text(
        "failed", timeout=START_TIMEOUT
    )
    page.set_viewport_size({"width": 1280, "height": 1000})
    dialog.get_by_test_id("mcp-cost").scroll_into_view_if_needed()
    shot(page, artifacts_dir, "mcp-pane")


def listing(page: Page, name: str) -> dict:
    return next(s for s in api_call(page, "mcp_servers")["servers"] if s["name"] == name)


def test_a_chat_calls_mcp_tools_and_the_cards_show_image_structured_content_and_errors(
    script, page, served, artifacts_dir
):
    add_replies(
        script,
        [
            *guided("get-tiny-image", said="Here is the image. "),
            *guided("get-structured-content", location="New York"),
            *guided("get_current_time", timezone="Not/AZone"),
            {"text": "Done: a tiny image, the weather, and a time server that refused."},
        ],
    )
    wait_until_ready(page)
    api_call(
        page,
        "mcp_add_stdio",
        name="everything",
        command=node(),
        args=[str(everything_script()), "stdio"],
    )
    api_call(page, "mcp_add_stdio", name="time", command=python_server("mcp-server-time"))
    for tool in ("get-tiny-image", "get-structured-content"):
        api_call(page, "mcp_set_tool_policy", name="everything", tool=tool, policy="allow")
    api_call(page, "mcp_set_tool_policy", name="time", tool="get_current_time", policy="allow")
    send(page, "Show me a tiny image, the weather in New York and the time in Not/AZone")

    reply = page.get_by_test_id("message-assistant")
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    cards = reply.get_by_test_id("tool-card")
    expect(cards).to_have_count(3)
    image_card, weather_card, time_card = cards.nth(0), cards.nth(1), cards.nth(2)

    # The image: folded, then shown from the base64 the server gave, as a data: URL.
    expect(image_card).to_have_attribute("data-status", "done")
    image_card.get_by_test_id("tool-outcome-toggle").click()
    image = image_card.get_by_test_id("tool-image")
    expect(image).to_be_visible()
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert image.evaluate("(node) => node.naturalWidth") > 0
    expect(image_card.get_by_test_id("tool-source")).to_contain_text("the MCP server everything")

    weather_card.get_by_test_id("tool-outcome-toggle").click()
    structured = json.loads(weather_card.get_by_test_id("tool-structured").inner_text())
    assert {"temperature", "conditions", "humidity"} <= set(structured)

    # The server's own failure is marked as the server's.
    expect(time_card).to_have_attribute("data-status", "failed")
    expect(time_card.get_by_test_id("tool-outcome-toggle")).to_have_text("Error from the server")
    time_card.get_by_test_id("tool-outcome-toggle").click()
    expect(time_card.get_by_test_id("tool-source")).to_have_text(
        "the MCP server time says the tool failed:"
    )
    expect(time_card.get_by_test_id("tool-result")).to_contain_text("Not/AZone")
    expect(reply.get_by_test_id("message-text")).to_contain_text("a tiny image")
    page.set_viewport_size({"width": 1280, "height": 1150})
    image_card.scroll_into_view_if_needed()
    shot(page, artifacts_dir, "mcp-card")
    page.set_viewport_size({"width": 1280, "height": 800})

    # The same after a reload (stored with the message), and Activity says "no undo".
    page.reload()
    wait_until_ready(page)
    card = page.get_by_test_id("tool-card").first
    card.get_by_test_id("tool-outcome-toggle").click()
    assert card.get_by_test_id("tool-image").get_attribute("src").startswith("data:image/png")
    page.get_by_test_id("activity-button").click()
    activity = page.get_by_role("dialog", name="Activity")
    expect(activity.get_by_test_id("activity-item")).to_have_count(3)
    expect(activity.get_by_test_id("activity-no-undo")).to_have_count(3)


@pytest.fixture
def time_server_asks(paths) -> None:
    """mcp-server-time saved before the app starts, both its tools set to ask first."""
    from localwork.tools.mcp.config import StdioServer
    from localwork.tools.mcp.store import McpEntry, McpStore

    server = StdioServer(command=python_server("mcp-server-time"))
    policy = {"get_current_time": "ask", "convert_time": "ask"}
    McpStore(paths.mcp_file).replace({"time": McpEntry(server, "on_use", policy)})


def test_the_real_model_calls_an_mcp_tool_through_the_ui_with_approval(
    time_server_asks, page, artifacts_dir
):
    # The bundled SmolLM2, no folder, tool use required: its call can only be a time tool.
    # What it writes varies: asserted is that a time tool's card waited, ran once approved,
    # and ended (done, or failed in the server's words for a time zone it made up).
    wait_until_ready(page)
    page.get_by_label("File tools in this conversation").select_option("required")
    send(page, "What time is it in UTC?")
    card = page.get_by_test_id("tool-card").first
    expect(card).to_have_attribute("data-status", "waiting", timeout=REPLY_TIMEOUT)
    expect(card.locator(".tool-name")).to_have_text(
        re.compile(r"^(get_current_time|convert_time)$")
    )
    card.get_by_role("button", name="Approve", exact=True).click()
    expect(card).to_have_attribute(
        "data-status", re.compile("^(done|failed)$"), timeout=REPLY_TIMEOUT
    )
    reply = page.get_by_test_id("message-assistant")
    expect(reply).to_have_attribute("data-state", "done", timeout=REPLY_TIMEOUT)
    expect(reply.get_by_test_id("message-text")).not_to_be_empty()
    shot(page, artifacts_dir, "mcp-real-model")
