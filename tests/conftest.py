"""Shared fixtures. Every test runs against temporary folders, never the user's own."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from localwork.app import App
from localwork.infra.paths import AppPaths, resolve_paths
from tests.support.display import DisplayError
from tests.support.display import virtual_display as start_virtual_display

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"

# Greedy decoding: real-model tests assert structure, and this keeps replies reproducible.
DETERMINISTIC_GENERATION = {"temperature": 0.0, "seed": 42, "max_tokens": 256}


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every per-user location at a temp dir so no test touches real folders."""
    home = tmp_path / "home"
    for variable, sub in (
        ("HOME", ""),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        folder = home / sub
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(variable, str(folder))
    # Sockets live in the runtime dir; it must stay short (AF_UNIX paths max out at 108 bytes).
    runtime = Path(tempfile.mkdtemp(prefix="lwh-"))
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    data_dir = tmp_path / "data"
    monkeypatch.setenv("LOCALWORK_DATA_DIR", str(data_dir))
    # Tests never reach the real Hub: a closed local port unless a test starts a fake Hub.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    yield data_dir
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def paths(isolated_user_dirs: Path) -> AppPaths:
    app_paths = resolve_paths(isolated_user_dirs)
    app_paths.create()
    return app_paths


def write_settings(paths: AppPaths, settings: dict) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.settings_file.write_text(json.dumps(settings), encoding="utf-8")


@pytest.fixture
def app(paths: AppPaths) -> Iterator[App]:
    """An App that is built but not started: no engine worker, for fast unit tests."""
    application = App(paths)
    yield application
    application.close()


@pytest.fixture
def artifacts_dir(request: pytest.FixtureRequest) -> Path:
    """A per-test folder for screenshots and logs, kept after the run."""
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def localwork_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "localwork", *args]


@pytest.fixture(scope="session")
def virtual_display() -> Iterator[str]:
    """A display for the real window: the existing one, or a fresh Xvfb."""
    if os.environ.get("DISPLAY") and os.environ.get("LOCALWORK_TEST_USE_DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    yield from xvfb_display("1280x800")


def xvfb_display(size: str) -> Iterator[str]:
    """A fresh Xvfb screen of ``size`` (e.g. "1366x768") for as long as the generator runs."""
    try:
        with start_virtual_display(f"{size}x24") as display:
            yield display
    except DisplayError as error:
        pytest.fail(str(error))
