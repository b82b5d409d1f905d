"""A real ``localwork-hero --serve`` process driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from localwork.infra.paths import AppPaths
from tests.conftest import DETERMINISTIC_GENERATION, localwork_command, write_settings
from tests.support.scripted_engine import use_scripted_engine

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 60.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.e2e)


@dataclass
class ServedApp:
    url: str  # the printed address, launch secret included: what a user opens
    process: subprocess.Popen[str]
    paths: AppPaths
    stderr_log: Path


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0].strip() if line else ""


def api_call(page: Page, method: str, **params: object) -> dict:
    """Call the bridge as the page does, with the session cookie the page's context holds."""
    origin = page.url.split("?", 1)[0].rstrip("/")
    response = page.request.post(
        f"{origin}/api/{method}", data=params, headers={"Content-Type": "application/json"}
    )
    reply = response.json()
    assert reply["ok"], reply
    return reply["data"]


def start_server(paths: AppPaths, stderr_log: Path) -> ServedApp:
    """Start ``--serve`` on a free port; fail the test with its stderr if it does not come up."""
    with open(stderr_log, "a") as stderr:
        process = subprocess.Popen(
            localwork_command("--serve", "--data-dir", str(paths.data_dir)),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = _first_line(process, SERVER_START_TIMEOUT)
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        process.wait()
        pytest.fail(f"--serve did not print its URL (got {url!r}):\n{stderr_log.read_text()}")
    return ServedApp(url=url, process=process, paths=paths, stderr_log=stderr_log)


def stop_server(served: ServedApp) -> None:
    served.process.terminate()
    try:
        served.process.wait(15)
    except subprocess.TimeoutExpired:
        served.process.kill()
        pytest.fail(f"--serve did not stop on SIGTERM:\n{served.stderr_log.read_text()}")


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scripted engine for the served app; request it before ``page``."""
    path = tmp_path / "script.json"
    for name, value in use_scripted_engine(path, []).items():
        monkeypatch.setenv(name, value)
    return path


@pytest.fixture
def served_settings() -> dict:
    """The settings file the served app starts with; a test module may override this."""
    return {"generation": {**DETERMINISTIC_GENERATION, "max_tokens": 1500}}


@pytest.fixture
def served(paths: AppPaths, artifacts_dir: Path, served_settings: dict) -> Iterator[ServedApp]:
    write_settings(paths, served_settings)
    server = start_server(paths, artifacts_dir / "server-stderr.log")
    yield server
    if server.process.poll() is None:
        stop_server(server)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; the README's test command installs Debian's chromium")
    chromium = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser, served: ServedApp, artifacts_dir: Path) -> Iterator[Page]:
    """A page on the served app; any request leaving 127.0.0.1 is blocked and fails the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    escaped: list[str] = []

    def guard(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            escaped.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    browser_page = context.new_page()
    page_errors: list[str] = []
    browser_page.on("pageerror", lambda error: page_errors.append(str(error)))
    browser_page.goto(served.url)
    yield browser_page
    browser_page.screenshot(path=str(artifacts_dir / "final.png"))
    context.close()
    assert escaped == [], f"requests tried to leave the machine: {escaped}"
    assert page_errors == [], f"uncaught errors in the page: {page_errors}"
