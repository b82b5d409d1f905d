"""The local API's streaming speed against the direct llama-cpp-python loop and against
llama-cpp-python's own ``llama_cpp.server``: same model, threads and context. Each run measures
every side once, in an order that rotates run by run, so drift on a shared machine hits every
side alike.

    python -m tests.benchmarks.api_benchmark --runs 6

Prints, per side, the median generation tok/s and time to first token, then the ratios the
issue asks for, each taken within a run (median and spread over the runs): API ÷ direct loop
(≥ 0.95), API ÷ llama_cpp.server (≥ 1.0), the API's first-token overhead over the direct loop
(≤ 20 ms), and 4 concurrent clients' aggregate tok/s ÷ one client's (≥ 0.9).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from localwork.app import App
from localwork.engine.local.tool_prompt import render_without_tools
from localwork.infra.paths import resolve_paths
from localwork.models.registry import bundled_model_path
from tests.benchmarks.direct_loop import (
    GENERATED,
    N_CTX,
    STORY,
    DirectLoop,
    spread,
    write_benchmark_settings,
)
from tests.support.llama_server import LlamaServer

KEY = "benchmark-key-0123456789"
# Made once, before any run is timed, as a program that talks to an API keeps its client:
# making one (its TLS context) takes ~25 ms, which is the client's cost, not the server's.
_CLIENT = httpx.Client(timeout=300)


def stream_run(base_url: str, model: str, key: str) -> dict[str, float]:
    """One streamed chat completion: ttft (s) to the first text, generation tok/s after it."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": STORY}],
        "max_tokens": GENERATED,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first = last = 0.0
    pieces = 0
    tokens: int | None = None
    headers = {"Authorization": f"Bearer {key}"}
    with _CLIENT.stream(
        "POST", f"{base_url}/chat/completions", json=body, headers=headers, timeout=300
    ) as reply:
        for line in reply.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    now = time.perf_counter()
                    first = first or now
                    last = now
                    pieces += 1
    written = tokens if tokens is not None else pieces  # the peer sends one token a chunk
    return {
        "ttft": first - started,
        "tg": (written - 1) / (last - first) if last > first else 0.0,
        "tokens": written,
        "wall": time.perf_counter() - started,
    }


def concurrent(base_url: str, model: str, clients: int) -> float:
    """Aggregate tok/s of ``clients`` streaming at once (whole wall time)."""
    results: list[dict[str, float]] = []
    lock = threading.Lock()

    def one() -> None:
        result = stream_run(base_url, model, KEY)
        with lock:
            results.append(result)

    started = time.perf_counter()
    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(r["tokens"] for r in results) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    direct = DirectLoop(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        paths = resolve_paths(Path(folder))
        write_benchmark_settings(paths.settings_file, args.threads)
        app = App(paths)
        app.start(api=False)
        loaded = app.runtime.ensure_ready(300)
        app.api.start(port=0, key=KEY)
        assert app.api.base_url is not None
        prompt = render_without_tools(loaded.template, [{"role": "user", "content": STORY}])
        peer = LlamaServer(bundled_model_path() or Path(), n_ctx=N_CTX, threads=args.threads)
        peer.start()
        sides: dict[str, list[dict[str, float]]] = {"direct": [], "api": [], "peer": []}
        try:
            stream_run(app.api.base_url, "default", KEY)  # warm both
            stream_run(peer.base_url, peer.model_id, "none")
            measure = {
                "direct": lambda: direct.run(prompt),
                "api": lambda: stream_run(app.api.base_url, "default", KEY),
                "peer": lambda: stream_run(peer.base_url, peer.model_id, "none"),
            }
            order = list(measure)
            for run in range(args.runs):
                # Each side takes each place in turn, so drift over the run hits all alike.
                for side in order[run % 3 :] + order[: run % 3]:
                    sides[side].append(measure[side]())
            one = [
                r["tokens"] / r["wall"]
                for r in (stream_run(app.api.base_url, "default", KEY) for _ in range(2))
            ]
            four = [concurrent(app.api.base_url, "default", 4) for _ in range(2)]
        finally:
            peer.stop()
            app.close()
            direct.close()
    report(sides, statistics.median(one), statistics.median(four))


def report(sides: dict[str, list[dict[str, Any]]], one: float, four: float) -> None:
    for side, runs in sides.items():
        print(
            f"{side:>7}: tg {spread([r['tg'] for r in runs])} tok/s; "
            f"ttft {spread([r['ttft'] * 1000 for r in runs])} ms"
        )

    def ratios(side: str, other: str) -> list[float]:  # run by run: neighbours in time
        return [a["tg"] / b["tg"] for a, b in zip(sides[side], sides[other], strict=True)]

    print(f"API ÷ direct loop (tg): {spread(ratios('api', 'direct'))}  (target >= 0.95)")
    print(f"API ÷ llama_cpp.server (tg): {spread(ratios('api', 'peer'))}  (target >= 1.0)")
    overhead = [
        (a["ttft"] - b["ttft"]) * 1000 for a, b in zip(sides["api"], sides["direct"], strict=True)
    ]
    print(
        f"API ttft overhead over the direct loop: median {statistics.median(overhead):.1f} ms, "
        f"spread {min(overhead):.1f}-{max(overhead):.1f}  (target <= 20)"
    )
    print(
        f"4 clients aggregate ÷ one client (tok/s over wall time): {four / one:.3f} "
        f"({four:.1f} vs {one:.1f})"
    )


if __name__ == "__main__":
    main()
