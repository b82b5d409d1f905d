"""The baseline both engine benchmarks compare with: a direct llama-cpp-python loop.

It runs in a process of its own, started before the app, and is driven one run at a time, so
a benchmark can alternate baseline and app run by run (drift on a shared machine then hits
both sides alike) without the app's UI process ever importing llama.cpp.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from localwork.engine.local.context_plan import physical_cores
from localwork.models.registry import bundled_model_path

N_CTX, N_BATCH, GENERATED = 4096, 512, 128
STORY = "Write a very long story about a dragon, at least 2000 words."


def write_benchmark_settings(settings_file: Path, threads: int, generated: int = GENERATED) -> None:
    """The app's settings: the same model, threads, context, batch and reply length as the
    direct loop."""
    context = {"n_ctx": N_CTX, "n_batch": N_BATCH, "n_ubatch": N_BATCH}
    context |= {"n_threads": threads, "n_threads_batch": threads}
    generation = {"temperature": 0, "max_tokens": generated, "seed": 1}
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps({"context": context, "generation": generation}))


class DirectLoop:
    """The direct loop's process: ``run(prompt)`` evaluates the prompt and writes ``generated``
    tokens greedily, reusing the cached prefix of the previous run as the app's worker does."""

    def __init__(self, threads: int | None = None, generated: int = GENERATED) -> None:
        self.threads = threads or physical_cores()
        self.generated = generated
        context = multiprocessing.get_context("spawn")  # no inherited threads or Qt state
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self.threads, generated), daemon=True
        )
        self._process.start()
        self.pid: int = self._process.pid or 0
        child.close()
        self._conn.recv()  # the model is loaded

    def run(self, prompt: str) -> dict[str, float]:
        """One timed run: ttft (s), pp and tg (tok/s), prompt and reused token counts."""
        self._conn.send(prompt)
        return self._conn.recv()

    def close(self) -> None:
        self._conn.send(None)
        self._process.join(10)


def _serve(conn: Connection, threads: int, generated: int) -> None:
    from llama_cpp import Llama

    llm = Llama(
        str(bundled_model_path()),
        n_ctx=N_CTX,
        n_batch=N_BATCH,
        n_ubatch=N_BATCH,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    conn.send("ready")
    while (prompt := conn.recv()) is not None:
        conn.send(_timed_run(llm, prompt, generated))


def _timed_run(llm: Any, prompt: str, generated: int) -> dict[str, float]:
    started = time.perf_counter()
    tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
    reused = _common_prefix(llm.input_ids[: llm.n_tokens], tokens[:-1])
    llm.n_tokens = reused
    llm.eval(tokens[reused:])
    token = llm.sample(temp=0.0)
    first = time.perf_counter()
    for _ in range(generated - 1):
        llm.eval([token])
        token = llm.sample(temp=0.0)
    done = time.perf_counter()
    return {
        "ttft": first - started,
        "pp": (len(tokens) - reused) / (first - started),
        "tg": (generated - 1) / (done - first),
        "prompt_tokens": len(tokens),
        "reused": reused,
    }


def _common_prefix(cached: Sequence[int], tokens: Sequence[int]) -> int:
    count = 0
    for previous, current in zip(cached, tokens, strict=False):
        if previous != current:
            break
        count += 1
    return count


def spread(values: Sequence[float]) -> str:
    """Median and range, as the benchmarks print them."""
    return f"median {statistics.median(values):.3f}, spread {min(values):.3f}-{max(values):.3f}"
