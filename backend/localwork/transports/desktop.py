"""The desktop window (pywebview) and ``--self-test``, which proves the real window works."""

from __future__ import annotations

import glob
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from localwork import APP_NAME
from localwork.app import App
from localwork.transports.bridge import Bridge, WindowApi
from localwork.transports.resources import frontend_dir
from localwork.transports.single_instance import SingleInstance

log = logging.getLogger(__name__)

SELF_TEST_PROMPT = "Say hello in one short sentence."
SELF_TEST_TIMEOUT = 180.0

_JS_PAGE_READY = "document.body.dataset.ready === 'true'"
_JS_SEND = """(() => {
  const input = document.querySelector('[data-testid="composer-input"]');
  input.value = %s;
  input.dispatchEvent(new Event('input', {bubbles: true}));
  document.querySelector('[data-testid="send-button"]').click();
  return true;
})()"""
_JS_LAST_REPLY = """(() => {
  const replies = document.querySelectorAll('[data-testid="message-assistant"]');
  const last = replies[replies.length - 1];
  if (!last) return null;
  const text = last.querySelector('[data-testid="message-text"]').textContent;
  return {state: last.dataset.state, text};
})()"""


DEFAULT_SIZE = (1200, 800)
MIN_SIZE = (640, 480)
# What a screen loses to panels, docks and the title bar; a 1366x768 laptop keeps about 690.
_SCREEN_SHARE = 0.9


def window_size(screen: tuple[int, int] | None) -> tuple[int, int]:
    """The default size, shrunk to fit a smaller screen (never below the minimum size)."""
    if screen is None:
        return DEFAULT_SIZE
    return tuple(  # type: ignore[return-value]
        max(low, min(default, int(available * _SCREEN_SHARE)))
        for default, low, available in zip(DEFAULT_SIZE, MIN_SIZE, screen, strict=True)
    )


def _screen_size(webview: Any) -> tuple[int, int] | None:
    try:
        screen = webview.screens[0]
    except Exception:  # no screen information from this backend: keep the default size
        log.warning("cannot read the screen size; opening the window at its default size")
        return None
    return screen.width, screen.height


@dataclass
class SelfTestOutcome:
    exit_code: int = 0
    report: str = ""


def software_rendering() -> bool:
    """Whether OpenGL would be emulated on the CPU here: Mesa told to, or no GPU render node
    on Linux (a VM, a server, Xvfb)."""
    if os.environ.get("LIBGL_ALWAYS_SOFTWARE", "") not in ("", "0"):
        return True
    return sys.platform.startswith("linux") and not glob.glob("/dev/dri/renderD*")


def _prepare_qt() -> None:
    os.environ.setdefault("QT_API", "pyside6")
    os.environ.setdefault("PYWEBVIEW_GUI", "qt")  # also for webview.screens, read before start
    if software_rendering():
        # Qt's OpenGL scene graph on emulated OpenGL (llvmpipe) took 55 % of a core to draw a
        # streaming reply and cut generation to 0.29 of the direct loop (window_benchmark);
        # Qt Quick's own software renderer draws the same page for 14 %.
        os.environ.setdefault("QT_QUICK_BACKEND", "software")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Chromium (inside Qt WebEngine) refuses to start as root with its sandbox on.
        flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
        if "--no-sandbox" not in flags:
            os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} --no-sandbox".strip()


# Drives an open window from a background thread; returns a report, raises on failure.
WindowDriver = Callable[[Any, App, float], str]


class WindowPickers:
    """The window's native dialogs, for ``AppOptions.pickers``. The App is built before the
    window (the window's API is the App's bridge), so the dialogs work once it is open."""

    def __init__(self) -> None:
        self._window: Any = None

    def attach(self, window: Any) -> None:
        self._window = window

    def folder(self) -> str | None:
        return self._dialog(
            lambda webview: self._window.create_file_dialog(webview.FileDialog.FOLDER)
        )

    def gguf_file(self) -> str | None:
        return self._dialog(
            lambda webview: self._window.create_file_dialog(
                webview.FileDialog.OPEN, file_types=("GGUF models (*.gguf)", "All files (*.*)")
            )
        )

    def save_path(self, suggested_name: str) -> str | None:
        return self._dialog(
            lambda webview: self._window.create_file_dialog(
                webview.FileDialog.SAVE, save_filename=suggested_name
            )
        )

    def _dialog(self, show: Callable[[Any], Any]) -> str | None:
        if self._window is None:
            return None  # the window is not open (yet, or any more)
        import webview

        chosen = show(webview)
        if isinstance(chosen, (list, tuple)):  # the type differs between pywebview backends
            chosen = chosen[0] if chosen else None
        return chosen or None


def run_window(
    app: App,
    self_test: bool = False,
    single_instance: SingleInstance | None = None,
    driver: WindowDriver | None = None,
    pickers: WindowPickers | None = None,
) -> int:
    """Open the window and block until it closes; returns the process exit code.

    With a ``driver`` (``--self-test`` is one), the window closes when the driver returns,
    and its report goes to stdout (or the failure to stderr, exit code 1).
    """
    if self_test:
        driver = _drive_self_test
    on_linux = sys.platform.startswith("linux")
    if on_linux:
        _prepare_qt()
    import webview

    started = time.monotonic()
    screen = _screen_size(webview)
    width, height = window_size(screen)
    log.info("opening the window at %dx%d (screen: %s)", width, height, screen)
    window = webview.create_window(
        APP_NAME,
        url=str(frontend_dir() / "index.html"),
        js_api=WindowApi(Bridge(app)),
        width=width,
        height=height,
        min_size=MIN_SIZE,
        text_select=True,
    )
    if pickers is not None:
        pickers.attach(window)
    if single_instance is not None:
        single_instance.listen(on_focus=lambda: _bring_to_front(window))
    outcome = SelfTestOutcome()
    webview.start(
        func=_run_driver if driver else None,
        args=(driver, window, app, outcome, started),
        gui="qt" if on_linux else None,
        http_server=True,
        private_mode=True,
    )
    if driver:
        stream = sys.stdout if outcome.exit_code == 0 else sys.stderr
        print(outcome.report, file=stream, flush=True)
    return outcome.exit_code


def _bring_to_front(window: Any) -> None:
    window.restore()
    window.show()


def _run_driver(
    driver: WindowDriver, window: Any, app: App, outcome: SelfTestOutcome, started: float
) -> None:
    try:
        outcome.report = driver(window, app, started)
    except Exception as error:
        log.exception("window driver failed")
        outcome.exit_code = 1
        outcome.report = f"self-test failed: {error}"
    finally:
        window.destroy()


def _drive_self_test(window: Any, app: App, started: float) -> str:
    deadline = started + SELF_TEST_TIMEOUT
    if not app.frontend_connected.wait(timeout=60):
        raise RuntimeError("the page never called the bridge (frontend did not start)")
    since_launch = time.time() - psutil.Process().create_time()
    while not window.evaluate_js(_JS_PAGE_READY):
        if time.monotonic() > deadline:
            raise RuntimeError("the page called the bridge but never finished starting")
        time.sleep(0.1)
    app.runtime.ensure_ready(timeout=max(1.0, deadline - time.monotonic()))
    window.evaluate_js(_JS_SEND % json.dumps(SELF_TEST_PROMPT))
    sent = time.monotonic()
    while time.monotonic() < deadline:
        reply = window.evaluate_js(_JS_LAST_REPLY)
        if reply and reply.get("state") == "failed":
            raise RuntimeError(f"the reply failed: {reply.get('text')}")
        if reply and reply.get("state") == "done" and reply.get("text", "").strip():
            return (
                f"self-test passed: the window was up and its page had called the bridge "
                f"{since_launch:.1f} s after launch; a {len(reply['text'])}-character model "
                f"reply streamed into the page in {time.monotonic() - sent:.1f} s"
            )
        time.sleep(0.2)
    raise RuntimeError(f"no model reply appeared within {SELF_TEST_TIMEOUT:.0f} s")
