"""One window per data folder: a second launch brings the first to the front and exits.

The running app listens on a local socket (a named pipe on Windows) in the user's runtime
dir, keyed by its data folder, so separate ``--data-dir`` instances stay independent.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import warnings
from collections.abc import Callable
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

_FOCUS = "focus"


def instance_address(data_dir: Path) -> str:
    key = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    if os.name == "nt":
        return rf"\\.\pipe\localwork-hero-{key}"
    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR: platformdirs warns, then uses /tmp
        warnings.simplefilter("ignore")
        runtime = platformdirs.user_runtime_path(
            "LocalWorkHero", appauthor=False, ensure_exists=True
        )
    os.chmod(runtime, 0o700)
    return str(runtime / f"{key}.sock")


class SingleInstance:
    def __init__(self, data_dir: Path) -> None:
        self.address = instance_address(data_dir)
        self._listener: Listener | None = None

    def ask_running_instance_to_focus(self) -> bool:
        """True when another instance is running and was asked to come to the front."""
        try:
            with Client(self.address) as connection:
                connection.send(_FOCUS)
                return connection.recv() == "ok"
        except (OSError, EOFError):
            return False

    def listen(self, on_focus: Callable[[], None]) -> None:
        if os.name != "nt" and os.path.exists(self.address):
            os.unlink(self.address)  # left by an instance that did not exit cleanly
        self._listener = Listener(self.address)
        threading.Thread(
            target=self._serve, args=(self._listener, on_focus), name="single-instance", daemon=True
        ).start()

    def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()

    @staticmethod
    def _serve(listener: Listener, on_focus: Callable[[], None]) -> None:
        while True:
            try:
                connection: Connection = listener.accept()
            except OSError:
                return  # closed on exit
            with connection:
                try:
                    if connection.recv() == _FOCUS:
                        log.info("another launch asked this window to come to the front")
                        on_focus()
                    connection.send("ok")
                except (OSError, EOFError):
                    continue
