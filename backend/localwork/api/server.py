"""The local API's HTTP server: uvicorn on its own thread, started and stopped by the app.

Loopback (127.0.0.1) unless the user turned on "serve on the local network" (0.0.0.0), which
the key guards like every request; ``base_url`` is the loopback one either way, and
``lan_urls`` are those other machines use. Port 0 picks a free port (``localwork-hero --api
--api-port 0``, or saved in Settings → Local API); ``base_url`` and the status's
``bound_port`` say which.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import uvicorn

from localwork.api.addresses import lan_addresses
from localwork.api.guard import Rules
from localwork.api.routes import build_app
from localwork.api.service import ApiService
from localwork.settings import SettingsStore, new_api_key

log = logging.getLogger(__name__)
_START_SECONDS = 10.0


class ApiServer:
    """The server of ``settings.local_api`` (the key may be this run's own: ``--api-key``)."""

    def __init__(self, service: ApiService, settings: SettingsStore) -> None:
        self.service = service
        self._settings = settings
        self._lock = threading.Lock()
        self._key_lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"
        self._key_override: str | None = None
        self.error: str | None = None  # why the last start failed

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def base_url(self) -> str | None:
        return f"http://127.0.0.1:{self._port}/v1" if self._port is not None else None

    def lan_urls(self) -> list[str]:
        """The base URLs other machines on the network use, best first: none unless serving
        on the local network, or when this machine has no LAN address."""
        config = self._settings.current.local_api
        port = self._port or config.port
        if not (config.lan and port):
            return []
        return [f"http://{address}:{port}/v1" for address in lan_addresses()]

    def key(self) -> str:
        """This run's key, else the saved one (made and saved on first use)."""
        if self._key_override:
            return self._key_override
        with self._key_lock:
            saved = self._settings.current.local_api.key
            if not saved:
                saved = new_api_key()
                self._settings.update({"local_api": {"key": saved}})
            return saved

    def rules(self) -> Rules:
        config = self._settings.current.local_api
        return Rules(
            key=self.key(),
            port=self._port or config.port,
            lan=config.lan,
            origins=tuple(config.cors_origins),
        )

    def start(self, port: int | None = None, key: str | None = None) -> None:
        """Listen (``port``: this run's, else the saved one) and serve on a thread.

        Raises:
            OSError: the port cannot be listened on (in use, not allowed).
        """
        with self._lock:
            if self._server is not None:
                return
            config = self._settings.current.local_api
            self._key_override = key
            self._host = "0.0.0.0" if config.lan else "127.0.0.1"
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((self._host, config.port if port is None else port))
            except OSError as error:
                listener.close()
                self.error = str(error)
                raise
            self._port = listener.getsockname()[1]
            server = uvicorn.Server(
                uvicorn.Config(
                    build_app(self.service, self.rules),
                    interface="asgi3",
                    http="h11",
                    ws="none",
                    lifespan="off",
                    log_config=None,
                    log_level="warning",
                    access_log=False,
                    timeout_graceful_shutdown=2,
                    server_header=False,
                )
            )
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [listener]}, name="local-api", daemon=True
            )
            thread.start()
            deadline = time.monotonic() + _START_SECONDS
            while not server.started and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            self._server, self._thread, self.error = server, thread, None
        log.info("the local API serves on %s:%s", self._host, self._port)

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._port = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout=10)

    def status(self) -> dict[str, Any]:
        """What Settings → Local API shows; the key only masked. ``port`` is the saved one
        (0: a free one), ``bound_port`` the one listened on; ``base_url`` names the bound
        port, else the saved one, and is None while a free one is still to be picked."""
        config = self._settings.current.local_api
        key = self.key()
        shown_port = self._port or config.port
        return {
            "enabled": config.enabled,
            "running": self.running,
            "base_url": f"http://127.0.0.1:{shown_port}/v1" if shown_port else None,
            "port": config.port,
            "bound_port": self._port,
            "lan": config.lan,
            "lan_urls": self.lan_urls(),
            "cors_origins": list(config.cors_origins),
            "masked_key": f"{key[:4]}…{key[-4:]}",
            "error": self.error,
            **self.service.serving(),
        }

    # --- what Settings → Local API changes ------------------------------------------------
    def apply_settings(self) -> dict[str, Any]:
        """Serve when the settings say so, on their port and interface; stop otherwise.
        A port that cannot be listened on is kept in ``error`` (and the status says it)."""
        self.stop()
        if self._settings.current.local_api.enabled:
            try:
                self.start()
            except OSError as error:
                log.warning("the local API cannot listen: %s", error)
        status = self.status()
        self.service.announce(status)
        return status

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change ``enabled``, ``port``, ``lan`` or ``cors_origins`` and apply them.

        Raises:
            SettingsError: a value is out of bounds.
        """
        self._settings.update({"local_api": changes})
        return self.apply_settings()

    def regenerate_key(self) -> dict[str, Any]:
        """A new key: the old one stops working at once. Every open view is told (the status
        masks the key), so that none goes on showing the old key or snippets with it."""
        self._key_override = None
        self._settings.update({"local_api": {"key": new_api_key()}})
        status = self.status()
        self.service.announce(status)
        return status

    def reveal_key(self) -> str:
        """The key itself, for the user's explicit Copy."""
        return self.key()
