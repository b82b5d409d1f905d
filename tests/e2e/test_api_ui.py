"""Settings → Local API end to end: turn it on in its dialog, copy the key, call it with the
official openai client (its own venv, ``build/setup.sh``), see the request in the API log and
"serving an API request" in the status line; the error line when the port is taken; port 0
(a free port) and the address it is bound to; a key regenerated in one view is old in another;
on the local network, the address other computers use beside the loopback one."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import REPO_ROOT
from tests.e2e.conftest import ServedApp, api_call
from tests.e2e.test_chat_ui import wait_until_ready

CLIENTS = REPO_ROOT / ".cache" / "test-servers" / "clients-venv" / "bin" / "python"
SHOTS = Path(os.environ.get("LOCALWORK_SHOTS", REPO_ROOT / ".cache" / "shots"))

# Every change of the status line's API part, kept even when several come in one task.
RECORD_API_STATUS = """() => {
  window.__apiShown = [];
  const part = document.querySelector('[data-testid="status-api"]');
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.attributeName === "hidden" && r.oldValue !== null) {
        window.__apiShown.push(part.textContent);
      }
    }
  }).observe(part, {attributes: true, attributeFilter: ["hidden"], attributeOldValue: true});
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def open_api(page: Page) -> Locator:
    page.get_by_role("button", name="Local API").click()
    pane = page.get_by_role("dialog", name="Local API")
    expect(pane).to_be_visible()
    return pane


def set_port(pane: Locator, port: int) -> None:
    pane.get_by_label("Port", exact=True).fill(str(port))
    pane.get_by_role("button", name="Save port").click()
    expect(pane.get_by_test_id("api-message")).to_have_text(f"The port is now {port}.")


def run_client(base_url: str, key: str, code: str) -> dict:
    """``code`` run by the official openai client in its own venv; it prints one JSON line."""
    if not CLIENTS.exists():
        pytest.fail("The API clients are not installed: run build/setup.sh test.")
    done = subprocess.run(
        [str(CLIENTS), "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "BASE_URL": base_url, "API_KEY": key},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_turn_on_copy_the_key_call_it_and_see_the_log(page: Page, artifacts_dir: Path):
    wait_until_ready(page)
    pane = open_api(page)
    expect(pane.get_by_role("switch", name="Serve the local API")).not_to_be_checked()
    expect(pane.get_by_role("switch", name="Serve on the local network")).not_to_be_checked()
    expect(pane.get_by_test_id("api-state")).to_contain_text("Off")
    expect(pane.get_by_test_id("api-snippet-curl")).to_have_value(
        "curl http://127.0.0.1:7373/v1/chat/completions \\\n"
        '  -H "Authorization: Bearer YOUR_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        '  -d \'{"model": "default", "messages": [{"role": "user", "content": "Hello!"}]}\''
    )

    port = free_port()
    set_port(pane, port)
    base_url = f"http://127.0.0.1:{port}/v1"
    pane.get_by_role("switch", name="Serve the local API").check()
    expect(pane.get_by_test_id("api-state")).to_have_text(
        f"On: programs on this computer can reach it at {base_url}."
    )
    expect(pane.get_by_label("Base URL", exact=True)).to_have_value(base_url)
    expect(pane.get_by_test_id("api-error")).to_be_hidden()
    masked = pane.get_by_label("API key", exact=True).input_value()
    assert "…" in masked

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    pane.get_by_role("button", name="Copy the API key").click()
    expect(pane.get_by_test_id("api-message")).to_contain_text("The key is")
    key = api_call(page, "copy_api_key")["key"]
    # Revealed (and selected for Ctrl+C where the page has no clipboard).
    expect(pane.get_by_label("API key", exact=True)).to_have_value(key)
    if "copied" in pane.get_by_test_id("api-message").inner_text():
        assert page.evaluate("navigator.clipboard.readText()") == key
    expect(pane.get_by_test_id("api-snippet-python")).to_have_value(
        re.compile(re.escape(f'client = OpenAI(base_url="{base_url}", api_key="{key}")'))
    )
    if SHOTS.is_dir():
        pane.get_by_role("button", name="Hide").click()
        page.screenshot(path=str(SHOTS / "api-settings.png"))
    pane.get_by_role("switch", name="Serve on the local network").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "api-network.png"))

    pane.get_by_role("tab", name="API log").click()
    expect(pane.get_by_test_id("api-log-empty")).to_be_visible()
    page.evaluate(RECORD_API_STATUS)
    got = run_client(
        base_url,
        key,
        """
        import json, os, openai
        client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"])
        reply = client.chat.completions.create(
            model="default", messages=[{"role": "user", "content": "Count to ten."}],
            max_tokens=24,
        )
        print(json.dumps({"content": reply.choices[0].message.content,
                          "usage": reply.usage.model_dump()}))
        """,
    )
    assert isinstance(got["content"], str)
    assert got["usage"]["prompt_tokens"] > 0

    row = pane.get_by_test_id("api-log-row").first
    expect(row.get_by_test_id("api-log-endpoint")).to_have_text("POST /v1/chat/completions")
    expect(row.get_by_test_id("api-log-status")).to_have_text("200")
    expect(row.get_by_test_id("api-log-client")).to_contain_text("127.0.0.1:")
    expect(row.get_by_test_id("api-log-model")).to_contain_text("bundled/")
    tokens = f"{got['usage']['prompt_tokens']} / {got['usage']['completion_tokens']}"
    expect(row.get_by_test_id("api-log-tokens")).to_have_text(tokens)
    expect(pane.get_by_test_id("api-log-empty")).to_be_hidden()
    page.wait_for_function("window.__apiShown.length > 0")
    assert page.evaluate("window.__apiShown")[0].startswith("serving an API request")
    expect(page.get_by_test_id("status-api")).to_be_hidden()  # and gone once it was answered

    # A failed request is logged too, in red.
    got = run_client(
        base_url,
        key,
        """
        import json, os, openai
        client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key=os.environ["API_KEY"])
        try:
            client.chat.completions.create(
                model="no-such-model", messages=[{"role": "user", "content": "Hi"}]
            )
        except openai.NotFoundError as error:
            print(json.dumps({"status": error.status_code}))
        """,
    )
    assert got == {"status": 404}
    newest = pane.get_by_test_id("api-log-row").first
    expect(newest.get_by_test_id("api-log-status")).to_have_text("404")
    expect(newest).to_have_class("failed")
    expect(pane.get_by_test_id("api-log-row")).to_have_count(2)
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / "api-log.png"))
    page.screenshot(path=str(artifacts_dir / "api-log.png"))


def test_a_taken_port_shows_what_to_do(page: Page):
    wait_until_ready(page)
    pane = open_api(page)
    set_port(pane, free_port())
    pane.get_by_role("switch", name="Serve the local API").check()
    expect(pane.get_by_test_id("api-state")).to_contain_text("can reach it at")

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        pane.get_by_label("Port", exact=True).fill(str(port))
        pane.get_by_role("button", name="Save port").click()
        error = pane.get_by_test_id("api-error")
        expect(error).to_be_visible()
        expect(error).to_contain_text(f"port {port} is already used by another program")
        expect(error).to_contain_text("Choose another port")
        expect(pane.get_by_test_id("api-state")).to_have_text("On, but not serving.")

    # A free port again: it serves, and the error line is gone.
    port = free_port()
    set_port(pane, port)
    expect(pane.get_by_test_id("api-error")).to_be_hidden()
    expect(pane.get_by_test_id("api-state")).to_contain_text(f"http://127.0.0.1:{port}/v1")


def test_port_0_picks_a_free_port_and_the_pane_shows_the_bound_one(script, page: Page):
    wait_until_ready(page)
    pane = open_api(page)
    expect(pane.get_by_test_id("api-port-help")).to_have_text("0 picks a free port")
    pane.get_by_label("Port", exact=True).fill("0")
    pane.get_by_role("button", name="Save port").click()
    expect(pane.get_by_test_id("api-message")).to_have_text(
        "A free port is picked each time the API starts."
    )
    expect(pane.get_by_label("Base URL", exact=True)).to_have_value("")  # none until it starts
    curl = pane.get_by_test_id("api-snippet-curl")
    expect(curl).to_have_value(re.compile(re.escape("curl http://127.0.0.1:PORT/v1/chat/")))

    pane.get_by_role("switch", name="Serve the local API").check()
    expect(pane.get_by_test_id("api-state")).to_contain_text("can reach it at")
    bound = api_call(page, "api_status")["bound_port"]
    base_url = f"http://127.0.0.1:{bound}/v1"
    assert bound > 0
    expect(pane.get_by_label("Base URL", exact=True)).to_have_value(base_url)
    expect(pane.get_by_test_id("api-state")).to_contain_text(f"can reach it at {base_url}.")
    expect(curl).to_have_value(re.compile(re.escape(f"curl {base_url}/chat/")))
    expect(pane.get_by_label("Port", exact=True)).to_have_value("0")  # the setting stays 0


def test_a_key_regenerated_in_one_view_is_forgotten_in_the_other(
    script, page: Page, served: ServedApp
):
    wait_until_ready(page)
    other = page.context.new_page()  # the browser beside the window: a second view
    other.goto(served.url)
    wait_until_ready(other)
    beside = open_api(other)
    beside.get_by_role("button", name="Copy the API key").click()
    old_key = api_call(page, "copy_api_key")["key"]
    expect(beside.get_by_label("API key", exact=True)).to_have_value(old_key)
    expect(beside.get_by_test_id("api-snippet-curl")).to_have_value(re.compile(old_key))

    pane = open_api(page)
    pane.get_by_role("button", name="Regenerate…").click()
    page.get_by_test_id("dialog").get_by_role("button", name="Regenerate").click()
    expect(pane.get_by_test_id("api-message")).to_contain_text("A new key is made")
    masked = api_call(page, "api_status")["masked_key"]
    expect(beside.get_by_label("API key", exact=True)).to_have_value(masked)
    expect(beside.get_by_test_id("api-snippet-curl")).to_have_value(re.compile("YOUR_KEY"))
    expect(beside.get_by_test_id("api-message")).to_contain_text("A new key is made")
    expect(beside.get_by_role("button", name="Hide")).to_be_hidden()


def test_on_the_local_network_the_pane_shows_the_address_other_computers_use(
    script, page: Page, artifacts_dir: Path
):
    wait_until_ready(page)
    pane = open_api(page)
    network_url = pane.get_by_label("From the network", exact=True)
    expect(network_url).to_be_hidden()
    pane.get_by_role("switch", name="Serve on the local network").click()
    page.get_by_test_id("dialog").get_by_role("button", name="Serve on the network").click()
    expect(network_url).to_be_visible()  # the API stays off here: nothing listens on 0.0.0.0
    lan_urls = api_call(page, "api_status")["lan_urls"]  # this machine's, maybe none
    expect(network_url).to_have_value(lan_urls[0] if lan_urls else "")
    expect(pane.get_by_label("Base URL", exact=True)).to_have_value("http://127.0.0.1:7373/v1")
    network_url.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "api-lan.png"))
    pane.get_by_role("switch", name="Serve on the local network").click()
    expect(network_url).to_be_hidden()


def test_regenerate_asks_first_the_network_switch_warns_and_copy_falls_back(page: Page):
    wait_until_ready(page)
    pane = open_api(page)
    key_field = pane.get_by_label("API key", exact=True)
    masked = key_field.input_value()

    # Regenerate: asked first; Cancel keeps the key, Regenerate makes a new one.
    pane.get_by_role("button", name="Regenerate…").click()
    confirm = page.get_by_test_id("dialog")
    expect(confirm).to_contain_text("Programs using the old key stop working")
    confirm.get_by_role("button", name="Cancel").click()
    expect(key_field).to_have_value(masked)
    pane.get_by_role("button", name="Regenerate…").click()
    confirm.get_by_role("button", name="Regenerate").click()
    expect(pane.get_by_test_id("api-message")).to_contain_text("A new key is made")
    expect(key_field).not_to_have_value(masked)

    # The local network: off by default, warned about in words, asked before it is turned on.
    lan = pane.get_by_role("switch", name="Serve on the local network")
    expect(pane.get_by_test_id("api-lan-warning")).to_contain_text(
        "anyone on your network who has the key can use your models"
    )
    lan.click()
    expect(confirm).to_contain_text("Anyone on your network who has the key")
    confirm.get_by_role("button", name="Cancel").click()
    expect(lan).not_to_be_checked()
    assert api_call(page, "api_status")["lan"] is False

    # Origins: never *.
    pane.get_by_label("Web pages allowed to call the API from a browser").fill("*")
    pane.get_by_role("button", name="Save origins").click()
    expect(pane.get_by_test_id("api-message")).to_contain_text("Not *")
    assert api_call(page, "api_status")["cors_origins"] == []

    # No clipboard (pywebview's Qt window may have none): the key is selected for Ctrl+C.
    page.evaluate("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    pane.get_by_role("button", name="Copy the API key").click()
    expect(pane.get_by_test_id("api-message")).to_have_text(
        "The key is selected: press Ctrl+C to copy it."
    )
    key = api_call(page, "copy_api_key")["key"]
    expect(key_field).to_have_value(key)
    expect(key_field).to_be_focused()
    assert page.evaluate(
        "(() => { const f = document.activeElement;"
        " return f.selectionEnd - f.selectionStart === f.value.length; })()"
    )
    # Closing forgets it: shown masked again next time.
    pane.get_by_role("button", name="Close").click()
    pane = open_api(page)
    expect(pane.get_by_label("API key", exact=True)).to_have_value(re.compile("…"))
