"""Engine benchmark: the app's full path against a direct llama-cpp-python loop, same run.

    .venv/bin/python -m tests.benchmarks.engine_benchmark [--runs N]

Measured on the bundled SmolLM2-135M with the same threads, context and batch on both sides:
- prompt processing and generation tokens/s through bridge -> worker -> events read over the
  real loopback HTTP transport (as the page reads them), divided by the direct loop's figures
  (``direct_loop.DirectLoop``, its own process), and the first-token overhead (the app's time
  to first token minus the direct loop's on the same prompt). Baseline and app alternate run
  by run (ABBA...) so drift on a shared machine hits both; each run's ratios are printed;
- time to first token of a second turn after a ~1,500-token first turn, divided by the time to
  first token of one fresh prompt of the same length (the cost of re-processing the history);
- Stop latency: from the stop call to the reply_done event reaching the reader, p50 / p95.
Targets (issues 4, 15): throughput ratios >= 0.95, first-token overhead <= 50 ms, second-turn
ratio <= 0.15, stop p95 <= 200 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from localwork.app import App
from localwork.engine.local.tool_prompt import render_without_tools
from localwork.infra.paths import resolve_paths
from localwork.transports.bridge import Bridge
from localwork.transports.resources import frontend_dir
from localwork.transports.server import BridgeServer
from tests.benchmarks.direct_loop import (
    GENERATED,
    N_BATCH,
    N_CTX,
    STORY,
    DirectLoop,
    spread,
    write_benchmark_settings,
)
from tests.support.session import session_cookie

FILLER = "The committee reviewed the quarterly figures and found them in order. "


class HttpReader:
    """Talks to the app exactly like the page: POST /api/<method> with the session cookie."""

    def __init__(self, server: BridgeServer) -> None:
        self._port = server.server_address[1]
        self._cookie = session_cookie(server.address)
        self.after = 0
        # One kept-alive connection per reader, as a browser tab keeps.
        self._connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=60)

    def call(self, method: str, **params: Any) -> Any:
        headers = {
            "Content-Type": "application/json",
            "Cookie": self._cookie,
            "Host": f"127.0.0.1:{self._port}",
        }
        self._connection.request("POST", f"/api/{method}", json.dumps(params), headers)
        reply = json.loads(self._connection.getresponse().read())
        if not reply["ok"]:
            raise RuntimeError(reply["error"])
        return reply["data"]

    def events_until_done(self, job_id: str, on_event=None) -> list[tuple[float, dict]]:
        """Read events until this job's reply ends; each with the time it arrived."""
        arrived = []
        while True:
            batch = self.call("poll_events", after=self.after, timeout=10)
            now = time.perf_counter()
            for event in batch["events"]:
                self.after = event["seq"]
                if event.get("job_id") != job_id:
                    continue
                arrived.append((now, event))
                if on_event:
                    on_event(now, event)
                if event["type"] in ("reply_done", "reply_failed"):
                    return arrived


def send(reader: HttpReader, text: str, conversation_id: str | None = None) -> tuple[dict, float]:
    started = time.perf_counter()
    sent = reader.call("send_message", conversation_id=conversation_id, text=text)
    return sent, started


def first_token_seconds(arrived: list[tuple[float, dict]], started: float) -> float:
    return next(t for t, e in arrived if e["type"] == "token") - started


def throughput_runs(
    reader: HttpReader, baseline: DirectLoop, prompt_of, runs: int
) -> list[dict[str, float]]:
    """Per run, the app's and the direct loop's figures for one long prompt, alternating."""
    rows = []
    for run in range(-1, runs):  # run -1 warms both sides up and is not counted
        # A different opening each run keeps the KV cache from serving the prompt.
        text = f"Run {run}. {FILLER * 60}\n\n{STORY}"
        if run % 2 == 0:
            base, ours = baseline.run(prompt_of(text)), app_run(reader, text)
        else:
            ours, base = app_run(reader, text), baseline.run(prompt_of(text))
        if ours["prompt_tokens"] != base["prompt_tokens"]:
            problem = f"{ours['prompt_tokens']} vs {base['prompt_tokens']} tokens"
            raise RuntimeError(f"the prompts differ: {problem}")
        if run >= 0:
            rows.append(
                {
                    "pp": ours["pp"] / base["pp"],
                    "tg": ours["tg"] / base["tg"],
                    "overhead_ms": (ours["ttft"] - base["ttft"]) * 1000,
                    "base": base,
                    "app": ours,
                }
            )
    return rows


def app_run(reader: HttpReader, text: str) -> dict[str, float]:
    sent, started = send(reader, text)
    arrived = reader.events_until_done(sent["job_id"])
    stats = arrived[-1][1]["stats"]
    tokens = [t for t, e in arrived if e["type"] == "token"]
    evaluated = stats["prompt_tokens"] - stats["prompt_tokens_reused"]
    ttft = first_token_seconds(arrived, started)
    return {
        "ttft": ttft,
        "pp": evaluated / ttft,
        "tg": (stats["completion_tokens"] - 1) / (tokens[-1] - tokens[0]),
        "prompt_tokens": stats["prompt_tokens"],
    }


def second_turn_cost(reader: HttpReader, runs: int) -> dict[str, float]:
    second, fresh = [], []
    for run in range(runs):
        long_message = f"Case {run}: " + FILLER * 105  # ~1,500 tokens
        sent, _ = send(reader, long_message)
        first = reader.events_until_done(sent["job_id"])[-1][1]
        conversation = sent["conversation"]["id"]
        follow_up, started = send(reader, "Summarise that in one line.", conversation)
        second.append(first_token_seconds(reader.events_until_done(follow_up["job_id"]), started))
        transcript = f"Fresh {run}: {long_message}\n{first['message']['content']}\nSummarise."
        alone, started = send(reader, transcript)
        fresh.append(first_token_seconds(reader.events_until_done(alone["job_id"]), started))
    return {"second": statistics.median(second), "fresh": statistics.median(fresh)}


def stop_latencies(reader: HttpReader, stopper: HttpReader, runs: int) -> list[float]:
    latencies = []
    for run in range(runs):
        sent, _ = send(reader, f"Story {run}. {STORY}")
        stopped_at: list[float] = []

        delay = 0.05 + 0.01 * (run % 10)  # stop at varying points of the reply

        def on_event(
            now: float, event: dict, sent=sent, stopped_at=stopped_at, delay=delay
        ) -> None:
            if event["type"] == "token" and not stopped_at:
                time.sleep(delay)
                stopped_at.append(time.perf_counter())
                stopper.call("stop_generation", conversation_id=sent["conversation"]["id"])

        arrived = reader.events_until_done(sent["job_id"], on_event)
        latencies.append(arrived[-1][0] - stopped_at[0])
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    baseline = DirectLoop()

    with tempfile.TemporaryDirectory() as folder:
        paths = resolve_paths(Path(folder))
        paths.create()
        write_benchmark_settings(paths.settings_file, baseline.threads)
        app = App(paths)
        app.start()
        loaded = app.runtime.ensure_ready(120)
        server = BridgeServer(Bridge(app), frontend_dir(), 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        reader = HttpReader(server)
        reader.after = reader.call("get_status")["last_seq"]
        system = app.settings.current.generation.system_prompt.strip()

        def prompt_of(text: str) -> str:
            turns = [{"role": "system", "content": system}, {"role": "user", "content": text}]
            return render_without_tools(loaded.template, turns)

        rows = throughput_runs(reader, baseline, prompt_of, args.runs)
        turns = second_turn_cost(reader, max(2, args.runs // 2))
        stops = stop_latencies(reader, HttpReader(server), args.runs * 4)
        server.shutdown()
        app.close()
    baseline.close()

    stops_ms = sorted(s * 1000 for s in stops)
    p95 = stops_ms[min(len(stops_ms) - 1, round(0.95 * (len(stops_ms) - 1)))]
    print(
        f"SmolLM2-135M Q4_1, {baseline.threads} threads, n_ctx {N_CTX}, n_batch {N_BATCH}, "
        f"prompt {rows[0]['base']['prompt_tokens']} tokens, {GENERATED} generated, "
        f"{len(rows)} alternating runs"
    )
    print(
        f"{'run':>3} {'direct pp':>9} {'app pp':>8} {'ratio':>6} {'direct tg':>9} "
        f"{'app tg':>8} {'ratio':>6} {'direct ttft':>11} {'app ttft':>9} {'overhead':>9}"
    )
    for index, row in enumerate(rows):
        base, ours = row["base"], row["app"]
        print(
            f"{index:>3} {base['pp']:9.1f} {ours['pp']:8.1f} {row['pp']:6.3f} "
            f"{base['tg']:9.1f} {ours['tg']:8.1f} {row['tg']:6.3f} "
            f"{base['ttft'] * 1000:9.0f}ms {ours['ttft'] * 1000:7.0f}ms "
            f"{row['overhead_ms']:7.0f}ms"
        )
    overhead = [row["overhead_ms"] for row in rows]
    print(f"prompt processing ratio: {spread([row['pp'] for row in rows])}  (target >= 0.95)")
    print(f"generation ratio: {spread([row['tg'] for row in rows])}  (target >= 0.95)")
    print(
        f"first-token overhead ms: median {statistics.median(overhead):.0f}, "
        f"spread {min(overhead):.0f}-{max(overhead):.0f}  (target <= 50)"
    )
    print(
        f"first token, 2nd turn vs fresh: {turns['second']:.2f} s vs {turns['fresh']:.2f} s, "
        f"ratio {turns['second'] / turns['fresh']:.3f}  (target <= 0.15)"
    )
    print(
        f"stop latency over {len(stops_ms)} stops: p50 {statistics.median(stops_ms):.0f} ms, "
        f"p95 {p95:.0f} ms, max {stops_ms[-1]:.0f} ms  (target p95 <= 200 ms)"
    )


if __name__ == "__main__":
    main()
