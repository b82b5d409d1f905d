"""Engine benchmark: the app's full path against a direct llama-cpp-python loop, same run.

    .venv/bin/python -m tests.benchmarks.engine_benchmark [--runs N]

Measured on the bundled SmolLM2-135M with the same threads, context and batch on both sides:
- prompt processing and generation tokens/s through bridge -> worker -> events read over the
  real loopback HTTP transport (as the page reads them), divided by the direct loop's figures;
- time to first token of a second turn after a ~1,500-token first turn, divided by the time to
  first token of one fresh prompt of the same length (the cost of re-processing the history);
- Stop latency: from the stop call to the reply_done event reaching the reader, p50 / p95.
Targets (issue 4): throughput ratios >= 0.95, second-turn ratio <= 0.15, stop p95 <= 200 ms.
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
from localwork.bridge import Bridge
from localwork.engine.context_plan import physical_cores
from localwork.models.registry import bundled_model_path
from localwork.paths import resolve_paths
from localwork.resources import frontend_dir
from localwork.server import BridgeServer
from tests.support.session import session_cookie

N_CTX, N_BATCH, GENERATED = 4096, 512, 128
STORY = "Write a very long story about a dragon, at least 2000 words."
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


def direct_baseline(prompt_tokens: list[int], threads: int, runs: int) -> dict[str, float]:
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
    pp, tg = [], []
    for _ in range(runs):
        llm.reset()
        started = time.perf_counter()
        llm.eval(prompt_tokens)
        pp.append(len(prompt_tokens) / (time.perf_counter() - started))
        token = llm.sample(temp=0.0)
        started = time.perf_counter()
        for _ in range(GENERATED - 1):
            llm.eval([token])
            token = llm.sample(temp=0.0)
        tg.append((GENERATED - 1) / (time.perf_counter() - started))
    return {"pp": statistics.median(pp), "tg": statistics.median(tg)}


def send(reader: HttpReader, text: str, conversation_id: str | None = None) -> tuple[dict, float]:
    started = time.perf_counter()
    sent = reader.call("send_message", conversation_id=conversation_id, text=text)
    return sent, started


def first_token_seconds(arrived: list[tuple[float, dict]], started: float) -> float:
    return next(t for t, e in arrived if e["type"] == "token") - started


def app_throughput(reader: HttpReader, runs: int) -> dict[str, float]:
    pp, tg = [], []
    for run in range(runs):
        # A different opening each run keeps the KV cache from serving the prompt.
        sent, started = send(reader, f"Run {run}. {FILLER * 60}\n\n{STORY}")
        arrived = reader.events_until_done(sent["job_id"])
        stats = arrived[-1][1]["stats"]
        tokens = [t for t, e in arrived if e["type"] == "token"]
        evaluated = stats["prompt_tokens"] - stats["prompt_tokens_reused"]
        pp.append(evaluated / first_token_seconds(arrived, started))
        tg.append((stats["completion_tokens"] - 1) / (tokens[-1] - tokens[0]))
    return {"pp": statistics.median(pp), "tg": statistics.median(tg)}


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
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    threads = physical_cores()

    with tempfile.TemporaryDirectory() as folder:
        paths = resolve_paths(Path(folder))
        paths.create()
        paths.settings_file.write_text(
            json.dumps(
                {
                    "context": {
                        "n_ctx": N_CTX,
                        "n_batch": N_BATCH,
                        "n_ubatch": N_BATCH,
                        "n_threads": threads,
                        "n_threads_batch": threads,
                    },
                    "generation": {"temperature": 0, "max_tokens": GENERATED, "seed": 1},
                }
            )
        )
        app = App(paths)
        app.start()
        loaded = app.runtime.ensure_ready(120)
        server = BridgeServer(Bridge(app), frontend_dir(), 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        reader = HttpReader(server)
        reader.after = reader.call("get_status")["last_seq"]

        through_app = app_throughput(reader, args.runs)
        turns = second_turn_cost(reader, max(2, args.runs // 2))
        stops = stop_latencies(reader, HttpReader(server), args.runs * 4)
        # The baseline's prompt: the same rendered chat the app sent in its first run.
        prompt = loaded.template.render(
            [
                {"role": "system", "content": app.settings.current.generation.system_prompt},
                {"role": "user", "content": f"Run 0. {FILLER * 60}\n\n{STORY}"},
            ]
        )
        prompt_tokens = app.runtime.count_tokens(prompt)
        server.shutdown()
        app.close()

    from llama_cpp import Llama  # only now: the app itself never loads it in this process

    tokenizer = Llama(str(bundled_model_path()), vocab_only=True, verbose=False)
    tokens = tokenizer.tokenize(prompt.encode(), add_bos=False, special=True)
    assert len(tokens) == prompt_tokens
    direct = direct_baseline(tokens, threads, args.runs)

    stops_ms = sorted(s * 1000 for s in stops)
    p95 = stops_ms[min(len(stops_ms) - 1, round(0.95 * (len(stops_ms) - 1)))]
    rows = [  # (measure, baseline, app, target)
        ("prompt processing tok/s", direct["pp"], through_app["pp"], ">= 0.95"),
        ("generation tok/s", direct["tg"], through_app["tg"], ">= 0.95"),
        ("first token, 2nd turn vs fresh (s)", turns["fresh"], turns["second"], "<= 0.15"),
    ]
    print(
        f"SmolLM2-135M Q4_1, {threads} threads, n_ctx {N_CTX}, n_batch {N_BATCH}, "
        f"prompt {prompt_tokens} tokens, {GENERATED} generated, {args.runs} runs (medians)"
    )
    print(f"{'measure':38} {'baseline':>10} {'app':>10} {'ratio':>7}  target")
    for name, base, ours, target in rows:
        print(f"{name:38} {base:10.2f} {ours:10.2f} {ours / base:7.3f}  {target}")
    print(
        f"stop latency over {len(stops_ms)} stops: p50 {statistics.median(stops_ms):.0f} ms, "
        f"p95 {p95:.0f} ms, max {stops_ms[-1]:.0f} ms  (target p95 <= 200 ms)"
    )


if __name__ == "__main__":
    main()
