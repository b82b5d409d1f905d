"""The real pywebview window under a virtual display: ``--self-test`` must pass."""

import os
import subprocess

import pytest

from localwork.store import ConversationStore
from tests.conftest import localwork_command

pytestmark = pytest.mark.window


def run_self_test(paths, display):
    return subprocess.run(
        localwork_command("--self-test", "--data-dir", str(paths.data_dir)),
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "DISPLAY": display},
    )


def test_self_test_passes_in_the_real_window(virtual_display, paths, artifacts_dir):
    result = run_self_test(paths, virtual_display)
    log = f"{result.stdout}\n--- stderr ---\n{result.stderr}"
    (artifacts_dir / "self-test.log").write_text(log)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("self-test passed:")
    # The message typed into the real page went through the bridge and was stored.
    store = ConversationStore(paths.database_file)
    try:
        (conversation,) = store.list_conversations()
        roles = [message["role"] for message in store.messages(conversation["id"])]
    finally:
        store.close()
    assert roles == ["user", "assistant"]


def test_self_test_fails_with_a_reason_when_no_model_can_load(virtual_display, paths):
    (paths.config_dir / "settings.json").write_text('{"selected_model": "local/missing.gguf"}')
    result = run_self_test(paths, virtual_display)
    assert result.returncode == 1
    assert "self-test failed:" in result.stderr
    assert "is not installed" in result.stderr
