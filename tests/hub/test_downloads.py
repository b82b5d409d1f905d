"""The download queue: several queued, pause, resume, cancel, restart recovery, split sets,
verification, and what the registry shows meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from localwork.errors import DiskFull, HubAuthRequired
from localwork.events import EventBus
from localwork.models.downloads import DownloadManager
from localwork.models.fetch import TransferPolicy, partial_path
from localwork.models.hub import HubClient
from localwork.models.registry import ModelRegistry
from tests.support.fakehub import make_gguf

REPO = "test/Tiny-GGUF"
POLICY = TransferPolicy(retries=2, backoff=0.01, stall_timeout=2.0)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.fixture
def models_dir(tmp_path):
    return tmp_path / "models"


@pytest.fixture
def events():
    return EventBus()


@pytest.fixture
def manager(hub, models_dir, events) -> Iterator[DownloadManager]:
    downloads = DownloadManager(models_dir, events, HubClient, POLICY)
    yield downloads
    downloads.close()


def state(manager: DownloadManager, job_id: str) -> str:
    return next(job["state"] for job in manager.list() if job["id"] == job_id)


def test_queued_downloads_finish_in_order_with_progress_events(hub, manager, models_dir, events):
    hub.add(REPO, "a-q4_k_m.gguf", make_gguf(900_000, seed=1), bytes_per_second=1_500_000)
    hub.add(REPO, "b-q8_0.gguf", make_gguf(300_000, seed=2))
    first = manager.start(REPO, "a-q4_k_m.gguf")
    second = manager.start(REPO, "b-q8_0.gguf")
    assert state(manager, second["id"]) == "queued"
    wait_for(lambda: state(manager, second["id"]) == "done")
    assert state(manager, first["id"]) == "done"
    registry = ModelRegistry(models_dir)
    ids = [model.id for model in registry.installed()]
    assert f"local/{REPO}/a-q4_k_m.gguf" in ids and f"local/{REPO}/b-q8_0.gguf" in ids
    progress = [e["download"] for e in events.poll(0, 0) if e["type"] == "download_progress"]
    mid = [p for p in progress if p["id"] == first["id"] and p["state"] == "downloading"]
    assert any(0 < p["done_bytes"] < p["total_bytes"] and p["speed"] > 0 for p in mid)
    assert any(e["type"] == "models_changed" for e in events.poll(0, 0))


def test_pause_resume_and_cancel(hub, manager, models_dir):
    slow = make_gguf(2_000_000, seed=3)
    hub.add(REPO, "slow-q4_k_m.gguf", slow, bytes_per_second=1_000_000)
    hub.add(REPO, "other-q4_k_m.gguf", make_gguf(2_000_000, seed=4), bytes_per_second=1_000_000)
    job = manager.start(REPO, "slow-q4_k_m.gguf")
    queued = manager.start(REPO, "other-q4_k_m.gguf")
    wait_for(
        lambda: (
            partial_path(models_dir / REPO / "slow-q4_k_m.gguf").exists()
            and partial_path(models_dir / REPO / "slow-q4_k_m.gguf").stat().st_size > 200_000
        )
    )
    # The queued one is cancelled before it starts; the paused one keeps its bytes.
    manager.cancel(queued["id"])
    assert state(manager, queued["id"]) == "cancelled"
    manager.pause(job["id"])
    wait_for(lambda: state(manager, job["id"]) == "paused")
    kept = partial_path(models_dir / REPO / "slow-q4_k_m.gguf").stat().st_size
    assert kept > 200_000
    assert all("slow" not in model.id for model in ModelRegistry(models_dir).installed())
    manager.resume(job["id"])
    wait_for(lambda: state(manager, job["id"]) == "done")
    assert (models_dir / REPO / "slow-q4_k_m.gguf").read_bytes() == slow
    served = hub.file(REPO, "slow-q4_k_m.gguf").served
    assert served - len(slow) <= 256 * 1024 + 4 * 65536


def test_cancel_while_downloading_deletes_the_partial_file(hub, manager, models_dir):
    hub.add(REPO, "slow-q4_k_m.gguf", make_gguf(2_000_000), bytes_per_second=1_000_000)
    job = manager.start(REPO, "slow-q4_k_m.gguf")
    part = partial_path(models_dir / REPO / "slow-q4_k_m.gguf")
    wait_for(lambda: part.exists() and part.stat().st_size > 100_000)
    manager.cancel(job["id"])
    wait_for(lambda: state(manager, job["id"]) == "cancelled")
    assert not part.exists() and not (models_dir / REPO / "slow-q4_k_m.gguf").exists()


def test_a_restarted_manager_lists_and_resumes_the_interrupted_download(hub, models_dir, events):
    data = make_gguf(2_000_000, seed=5)
    hub.add(REPO, "slow-q4_k_m.gguf", data, bytes_per_second=1_000_000)
    first = DownloadManager(models_dir, events, HubClient, POLICY)
    first.start(REPO, "slow-q4_k_m.gguf")
    part = partial_path(models_dir / REPO / "slow-q4_k_m.gguf")
    wait_for(lambda: part.exists() and part.stat().st_size > 300_000)
    first.close()  # the app quits mid-download
    kept = part.stat().st_size
    second = DownloadManager(models_dir, events, HubClient, POLICY)
    try:
        [job] = second.list()
        assert job["state"] == "paused" and job["done_bytes"] == kept
        second.resume(job["id"])
        wait_for(lambda: state(second, job["id"]) == "done")
    finally:
        second.close()
    assert (models_dir / REPO / "slow-q4_k_m.gguf").read_bytes() == data


def test_split_model_downloads_as_a_set_and_appears_only_when_complete(hub, manager, models_dir):
    for index in (1, 2):
        hub.add(
            REPO,
            f"big-q4_k_m-{index:05d}-of-00002.gguf",
            make_gguf(400_000, seed=index),
            bytes_per_second=2_000_000,
        )
    job = manager.start(REPO, "big-q4_k_m-00001-of-00002.gguf")
    assert job["parts"] == 2 and job["total_bytes"] == 800_000
    registry = ModelRegistry(models_dir)
    first = models_dir / REPO / "big-q4_k_m-00001-of-00002.gguf"
    wait_for(lambda: first.exists() or state(manager, job["id"]) == "done")
    if state(manager, job["id"]) != "done":  # part 1 is verified, part 2 still coming
        assert all("big" not in model.id for model in registry.installed())
    wait_for(lambda: state(manager, job["id"]) == "done")
    [big] = [model for model in registry.installed() if "big" in model.id]
    assert len(big.files) == 2 and big.size_bytes == 800_000


def test_wrong_hash_fails_the_job_and_installs_nothing(hub, manager, models_dir):
    hub.add(REPO, "bad-q4_k_m.gguf", make_gguf(200_000), wrong_sha=True)
    job = manager.start(REPO, "bad-q4_k_m.gguf")
    wait_for(lambda: state(manager, job["id"]) == "failed")
    [listed] = manager.list()
    assert listed["error"]["code"] == "download_corrupt"
    assert "deleted" in listed["error"]["message"]
    assert list((models_dir / REPO).iterdir()) == []


def test_gated_download_fails_with_token_advice(hub, manager):
    hub.add(REPO, "tiny-q4_k_m.gguf", make_gguf(1000))
    hub.repos[REPO].gated = True
    job = manager.start(REPO, "tiny-q4_k_m.gguf")
    wait_for(lambda: state(manager, job["id"]) == "failed")
    error = manager.list()[0]["error"]
    assert error["code"] == HubAuthRequired.code and "HF_TOKEN" in error["message"]


def test_disk_space_is_checked_before_anything_is_queued(hub, manager, models_dir):
    hub.add(REPO, "huge-q4_k_m.gguf", make_gguf(1000), announce_size=2**60)
    with pytest.raises(DiskFull, match="Not enough disk space"):
        manager.start(REPO, "huge-q4_k_m.gguf")
    assert manager.list() == []
