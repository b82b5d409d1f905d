"""The whole app killed mid-download and started again: the download comes back paused with
the bytes already on disk, resumes through the bridge, and re-fetches almost nothing."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from pathlib import Path

from localwork.models.fetch import READ_SIZE, partial_path
from tests.e2e.conftest import ServedApp, start_server
from tests.support.fakehub import make_gguf
from tests.support.session import session_cookie

REPO = "test/Tiny-GGUF"
FILE = "tiny-q4_k_m.gguf"


class BridgeClient:
    """Calls the served bridge over HTTP with the session the printed address gives."""

    def __init__(self, served: ServedApp) -> None:
        self.url = served.url.split("?", 1)[0].rstrip("/")
        self.cookie = session_cookie(served.url)

    def call(self, method: str, **params: object) -> dict:
        request = urllib.request.Request(
            f"{self.url}/api/{method}",
            data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json", "Cookie": self.cookie},
        )
        with urllib.request.urlopen(request) as response:
            reply = json.loads(response.read())
        assert reply["ok"], reply
        return reply["data"]


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_killed_app_lists_the_download_as_paused_and_resumes_it(hub, paths, tmp_path: Path):
    data = make_gguf(8_000_000, seed=11)
    served_file = hub.add(REPO, FILE, data, bytes_per_second=3_000_000)
    part = partial_path(paths.models_dir / REPO / FILE)

    first = start_server(paths, tmp_path / "first.log")
    try:
        job = BridgeClient(first).call("start_download", repo_id=REPO, file=FILE)
        assert job["state"] in ("queued", "downloading") and job["total_bytes"] == len(data)
        wait_for(lambda: part.exists() and part.stat().st_size > 2_000_000)
    finally:
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
    kept = part.stat().st_size
    assert not (paths.models_dir / REPO / FILE).exists()

    second = start_server(paths, tmp_path / "second.log")
    try:
        bridge = BridgeClient(second)
        overview = bridge.call("models_overview")
        assert all(FILE not in model["id"] for model in overview["models"])
        [paused] = overview["downloads"]
        assert paused["state"] == "paused" and paused["done_bytes"] == kept
        served_file.faults.bytes_per_second = None
        bridge.call("resume_download", job_id=paused["id"])
        wait_for(lambda: bridge.call("models_overview")["downloads"][0]["state"] == "done")
        ids = [model["id"] for model in bridge.call("models_overview")["models"]]
        assert f"local/{REPO}/{FILE}" in ids
    finally:
        second.process.terminate()
        second.process.wait(15)
    assert (paths.models_dir / REPO / FILE).read_bytes() == data
    refetched = served_file.served - len(data)
    assert 0 <= refetched <= READ_SIZE + 4 * 65536, refetched
