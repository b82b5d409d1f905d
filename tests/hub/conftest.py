"""Fixtures for the Hub tier: a fake Hub on 127.0.0.1, selected through HF_ENDPOINT."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fakehub import FakeHub


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    fake = FakeHub().start()
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    yield fake
    fake.close()
