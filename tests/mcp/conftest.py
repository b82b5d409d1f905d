"""A factory of ``McpServerManager``s that are all closed when the test ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from localwork.tools.mcp.manager import McpServerManager

MakeManager = Callable[..., McpServerManager]


@pytest.fixture
def make_manager() -> Iterator[MakeManager]:
    made: list[McpServerManager] = []

    def make(servers: dict[str, Any], **options: Any) -> McpServerManager:
        manager = McpServerManager(servers, **options)
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.close()
