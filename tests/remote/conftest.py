"""Fixtures for the remote-engine tier: a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from localwork.engine.remote.client import RemoteChatClient
from localwork.engine.remote.connection import RemoteServer, Timeouts
from tests.support.openai_server import OpenAIServer

API_KEY = "sk-test-key"
# Short, so that a test of a dead server ends fast; generous beside a loopback answer.
SHORT = Timeouts(connect=2.0, read=1.0, write=2.0)


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    fake = OpenAIServer().start()
    yield fake
    fake.close()


@pytest.fixture
def client(server: OpenAIServer) -> RemoteChatClient:
    return RemoteChatClient(RemoteServer(server.url, API_KEY, SHORT))


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A port whose listener never accepts and whose queue is full: a connect hangs (the
    kernel drops the SYN), as for a server behind a firewall that drops packets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=5)  # fills the queue
    yield port
    filler.close()
    listener.close()


@pytest.fixture
def hang_up_port() -> Iterator[int]:
    """A port whose server accepts each connection and closes it without a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(2)
            with contextlib.suppress(OSError):
                connection.recv(65536)
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    listener.close()
