"""Fixtures for the remote-engine tier: a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

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
