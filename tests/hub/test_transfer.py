"""The ranged, verified transfer of one file, against the fake Hub with injected faults."""

from __future__ import annotations

import hashlib

import pytest

from localwork.errors import DiskFull, DownloadCorrupt, DownloadError, HubAuthRequired
from localwork.models.fetch import (
    READ_SIZE,
    TransferInterrupted,
    TransferPolicy,
    TransferSpec,
    ensure_space,
    partial_path,
    sidecar_path,
    transfer,
)
from tests.support.fakehub import COMMIT, make_gguf

REPO = "test/tiny-GGUF"
FAST = TransferPolicy(retries=3, backoff=0.01, backoff_max=0.05, stall_timeout=2.0)


def spec_for(hub, tmp_path, name="tiny-Q4_K_M.gguf", sha=None):
    file = hub.file(REPO, name)
    return TransferSpec(
        url=f"{hub.url}/{REPO}/resolve/{COMMIT}/{name}",
        dest=tmp_path / "models" / name,
        size=file.size,
        sha256=sha or hashlib.sha256(file.read(0, file.size)).hexdigest(),
    )


def test_plain_download_is_verified_and_renamed(hub, tmp_path):
    data = make_gguf(1_000_000)
    hub.add(REPO, "tiny-Q4_K_M.gguf", data)
    result = transfer(spec_for(hub, tmp_path), FAST)
    assert result.path.read_bytes() == data
    assert result.fetched == len(data) and result.resumed_from == 0
    assert not partial_path(result.path).exists() and not sidecar_path(result.path).exists()


def test_dropped_connection_resumes_with_a_range_request(hub, tmp_path):
    data = make_gguf(2_000_000)
    served = hub.add(REPO, "tiny-Q4_K_M.gguf", data, drop_after=[700_000, 1_500_000])
    result = transfer(spec_for(hub, tmp_path), FAST)
    assert result.path.read_bytes() == data
    assert served.gets == 3
    # Each drop costs at most what was in flight: nothing is fetched twice from the start.
    assert served.served - len(data) <= 2 * READ_SIZE


def test_server_ignoring_range_restarts_cleanly(hub, tmp_path):
    data = make_gguf(600_000)
    hub.add(REPO, "tiny-Q4_K_M.gguf", data, drop_after=[300_000], ignore_range=True)
    result = transfer(spec_for(hub, tmp_path), FAST)
    assert result.path.read_bytes() == data


def test_wrong_hash_deletes_the_partial_file_and_says_so(hub, tmp_path):
    hub.add(REPO, "tiny-Q4_K_M.gguf", make_gguf(300_000))
    spec = spec_for(hub, tmp_path, sha="0" * 64)
    with pytest.raises(DownloadCorrupt, match=r"did not match.*deleted"):
        transfer(spec, FAST)
    assert list(spec.dest.parent.iterdir()) == []


def test_stalled_server_times_out_and_resumes(hub, tmp_path):
    data = make_gguf(500_000)
    served = hub.add(REPO, "tiny-Q4_K_M.gguf", data, stall_at=200_000, stall_seconds=10)
    policy = TransferPolicy(retries=2, backoff=0.01, stall_timeout=0.5)
    result = transfer(spec_for(hub, tmp_path), policy)
    assert result.path.read_bytes() == data and served.gets == 2


def test_gives_up_after_retries_but_keeps_the_partial_file(hub, tmp_path):
    hub.add(REPO, "tiny-Q4_K_M.gguf", make_gguf(300_000), status=503)
    spec = spec_for(hub, tmp_path)
    waits: list[float] = []
    with pytest.raises(DownloadError, match="failed 4 times"):
        transfer(spec, FAST, sleep=waits.append)
    assert waits == [0.01, 0.02, 0.04]  # exponential backoff, capped at backoff_max
    assert sidecar_path(spec.dest).exists()


def test_auth_failure_is_not_retried(hub, tmp_path):
    hub.add(REPO, "tiny-Q4_K_M.gguf", make_gguf(1000))
    hub.repos[REPO].gated = True
    with pytest.raises(HubAuthRequired, match="HF_TOKEN"):
        transfer(spec_for(hub, tmp_path), FAST)


def test_pause_keeps_the_prefix_and_a_new_call_resumes_from_it(hub, tmp_path):
    data = make_gguf(3_000_000)
    served = hub.add(REPO, "tiny-Q4_K_M.gguf", data, bytes_per_second=4_000_000)
    spec = spec_for(hub, tmp_path)
    seen: list[int] = []

    def pause_after_a_megabyte() -> None:
        if seen and seen[-1] >= 1_000_000:
            raise TransferInterrupted("pause")

    with pytest.raises(TransferInterrupted):
        transfer(spec, FAST, on_progress=seen.append, check=pause_after_a_megabyte)
    kept = partial_path(spec.dest).stat().st_size
    assert kept >= 1_000_000
    result = transfer(spec, FAST)
    assert result.resumed_from == kept and result.path.read_bytes() == data
    assert served.served - len(data) <= READ_SIZE + 4 * 65536


def test_damaged_prefix_is_caught_by_the_final_hash(hub, tmp_path):
    data = make_gguf(400_000)
    hub.add(REPO, "tiny-Q4_K_M.gguf", data, drop_after=[200_000])
    spec = spec_for(hub, tmp_path)
    with pytest.raises(DownloadError):
        transfer(spec, TransferPolicy(retries=0, backoff=0.01))
    part = partial_path(spec.dest)
    damaged = bytearray(part.read_bytes())
    damaged[100] ^= 0xFF
    part.write_bytes(bytes(damaged))
    with pytest.raises(DownloadCorrupt):
        transfer(spec, FAST)
    assert not part.exists()


def test_free_space_preflight(tmp_path):
    with pytest.raises(DiskFull, match="Not enough disk space"):
        ensure_space(tmp_path, 2**62)
    ensure_space(tmp_path, 1024)
