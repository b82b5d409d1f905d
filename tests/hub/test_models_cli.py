"""``localwork-hero models …`` as a real process against the fake Hub, including a SIGKILL
mid-download followed by a resume that re-fetches almost nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from localwork.models.fetch import READ_SIZE, partial_path
from tests.conftest import localwork_command
from tests.support.fakehub import GOOD_TOKEN, make_gguf

REPO = "test/Tiny-GGUF"
FILE = "tiny-q4_k_m.gguf"


def models(data_dir, *args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        localwork_command("models", *args, "--data-dir", str(data_dir)),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_download_list_and_remove(hub, tmp_path):
    data = make_gguf(1_500_000)
    hub.add(REPO, FILE, data)
    listing = models(tmp_path, "list", REPO)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.strip() == f"{FILE}\tQ4_K_M\t1.4 MiB"

    done = models(tmp_path, "download", REPO, FILE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"local/{REPO}/{FILE}"
    assert "(100.0%)" in done.stderr
    assert (tmp_path / "models" / REPO / FILE).read_bytes() == data

    installed = models(tmp_path, "list")
    assert f"local/{REPO}/{FILE}\t1.4 MiB" in installed.stdout
    assert "disk used by models: 1.4 MiB" in installed.stderr

    removed = models(tmp_path, "remove", FILE)
    assert removed.returncode == 0, removed.stderr
    assert not (tmp_path / "models" / REPO).exists()
    assert models(tmp_path, "remove", FILE).returncode == 1


def test_failures_exit_nonzero_with_the_reason(hub, tmp_path):
    missing = models(tmp_path, "download", "nobody/nothing", FILE)
    assert missing.returncode == 1 and "no model repo nobody/nothing" in missing.stderr

    hub.add(REPO, FILE, make_gguf(1000))
    hub.repos[REPO].gated = True
    gated = models(tmp_path, "download", REPO, FILE)
    assert gated.returncode == 1 and "HF_TOKEN" in gated.stderr
    assert models(tmp_path, "download", REPO, FILE, env={"HF_TOKEN": GOOD_TOKEN}).returncode == 0

    hub.add(REPO, "bad-q4_k_m.gguf", make_gguf(1000), wrong_sha=True)
    bad = models(tmp_path, "download", REPO, "bad-q4_k_m.gguf", env={"HF_TOKEN": GOOD_TOKEN})
    assert bad.returncode == 1 and "did not match the Hub's record" in bad.stderr
    assert not list((tmp_path / "models" / REPO).glob("bad*"))

    hub.add(REPO, "huge-q4_k_m.gguf", make_gguf(1000), announce_size=2**60)
    huge = models(tmp_path, "download", REPO, "huge-q4_k_m.gguf", env={"HF_TOKEN": GOOD_TOKEN})
    assert huge.returncode == 1 and "Not enough disk space" in huge.stderr

    usage = models(tmp_path, "download", "not a repo", FILE)
    assert usage.returncode == 2 and "owner/name" in usage.stderr


def test_killed_download_resumes_and_refetches_at_most_one_read(hub, tmp_path):
    data = make_gguf(8_000_000, seed=7)
    served = hub.add(REPO, FILE, data, bytes_per_second=4_000_000)
    part = partial_path(tmp_path / "models" / REPO / FILE)
    process = subprocess.Popen(
        localwork_command("models", "download", REPO, FILE, "--data-dir", str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not (part.exists() and part.stat().st_size > 3_000_000):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.kill()
    process.wait()
    kept = part.stat().st_size

    resumed = models(tmp_path, "download", REPO, FILE)
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "models" / REPO / FILE).read_bytes() == data
    refetched = served.served - len(data)
    # What was sent but not yet on disk at the kill: bounded by one read plus the
    # few 64 KiB pieces the slow server had in flight.
    assert 0 <= refetched <= READ_SIZE + 4 * 65536, (kept, refetched)
    assert served.gets == 2  # one interrupted request, one ranged resume


def test_import_copy_and_link(tmp_path):
    source = tmp_path / "mine-q4_0.gguf"
    source.write_bytes(make_gguf(50_000))
    copied = models(tmp_path / "a", "import", str(source))
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.strip() == "local/imported/mine-q4_0.gguf"
    linked = models(tmp_path / "b", "import", str(source), "--link")
    assert linked.returncode == 0
    assert (tmp_path / "b" / "models" / "imported" / source.name).is_symlink()
    assert "(linked)" in models(tmp_path / "b", "list").stdout

    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model")
    refused = models(tmp_path / "a", "import", str(junk))
    assert refused.returncode == 1 and "not a usable GGUF" in refused.stderr


def test_disk_filling_up_mid_download_keeps_the_part_for_a_resume(hub, tmp_path):
    """A file-size limit makes writes fail mid-file like a full disk does (EFBIG)."""
    data = make_gguf(3_000_000, seed=9)
    served = hub.add(REPO, FILE, data)
    limit = 1_000_000
    # The limit is set inside the child (no preexec_fn: this test process has threads).
    limited = (
        "import resource, runpy, sys; "
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); "
        "sys.argv = ['localwork-hero', *sys.argv[1:]]; "
        "runpy.run_module('localwork', run_name='__main__')"
    )
    full = subprocess.run(
        [
            sys.executable,
            "-c",
            limited,
            "models",
            "download",
            REPO,
            FILE,
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert full.returncode == 1
    assert "larger than this disk's file system or your file-size limit" in full.stderr
    part = partial_path(tmp_path / "models" / REPO / FILE)
    kept = part.stat().st_size
    assert 0 < kept <= limit
    assert not (tmp_path / "models" / REPO / FILE).exists()

    before = served.served
    resumed = models(tmp_path, "download", REPO, FILE)
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "models" / REPO / FILE).read_bytes() == data
    assert served.served - before == len(data) - kept  # only the missing bytes
