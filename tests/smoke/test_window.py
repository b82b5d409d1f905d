"""The real pywebview window under a virtual display: ``--self-test`` must pass."""

import os
import re
import subprocess
import time

import pytest

from localwork.conversations.store import ConversationStore
from localwork.transports.single_instance import SingleInstance
from tests.conftest import localwork_command, xvfb_display

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


def test_a_second_launch_brings_the_first_window_forward(virtual_display, paths):
    env = {**os.environ, "DISPLAY": virtual_display}
    command = localwork_command("--data-dir", str(paths.data_dir))
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        address = SingleInstance(paths.data_dir).address
        deadline = time.monotonic() + 60
        while not os.path.exists(address):
            assert first.poll() is None, first.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the first window never started listening"
            time.sleep(0.1)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        log = paths.log_file.read_text()
        assert "another launch asked this window to come to the front" in log
        assert first.poll() is None  # the first window is still there
    finally:
        first.kill()
        first.wait(10)


@pytest.fixture
def laptop_display():
    """A 1366x768 screen, the most common laptop size, smaller than the default window."""
    yield from xvfb_display("1366x768")


def test_the_window_fits_a_laptop_screen(laptop_display, paths):
    env = {**os.environ, "DISPLAY": laptop_display}
    window = subprocess.Popen(
        localwork_command("--data-dir", str(paths.data_dir)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        geometry = None
        while geometry is None:
            assert window.poll() is None, window.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the window never appeared"
            tree = subprocess.run(
                ["xwininfo", "-root", "-tree"], env=env, capture_output=True, text=True
            ).stdout
            shown = [line for line in tree.splitlines() if '"LocalWork Hero"' in line]
            geometry = re.search(r"(\d+)x(\d+)\+", shown[0]) if shown else None
            time.sleep(0.2)
        width, height = map(int, geometry.groups())
        assert (width, height) == (1200, 691)  # 90 % of 768 leaves room for panels
    finally:
        window.kill()
        window.wait(10)
