"""The engine worker process: the only process that loads llama.cpp's native code.

A segfault, abort or out-of-memory kill here ends this process only; the UI process sees
its pipe close, tells the user and starts a new worker.
"""

from __future__ import annotations

import codecs
import json
import os
import queue
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from localwork.engine.local import protocol
from localwork.errors import (
    ContextOverflow,
    GenerationFailed,
    InvalidRequest,
    LocalWorkError,
    ModelLoadFailed,
)

# Streamed text is sent at most this often (the first token at once): per-token messages
# cost the UI process CPU that, on a small machine, llama.cpp's own threads need.
STREAM_FLUSH_SECONDS = 0.1

# A decode quicker than this runs without llama.cpp's abort callback: Stop is then seen between
# tokens soon enough (see AbortPoll).
ABORT_POLL_MIN_SECONDS = 0.05

# GGML type ids of the KV cache types offered in settings.
_CACHE_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}


class Cancelled(Exception):
    pass


class Backend(Protocol):
    """What the worker serves requests with: a loaded model. The worker speaks the protocol
    (one request at a time, errors as coded replies, cancel out of band); a backend does the
    work. It is made with the worker's cancel event, set when the request in progress is to
    stop: a backend checks it and ends early, keeping what it produced.

    ``LlamaBackend`` runs llama.cpp; the tests' scripted worker has one that reads replies
    from a script (``tests/support/scripted_engine.py``).
    """

    def load(self, model_path: str, params: dict[str, Any]) -> dict[str, Any]:
        """Load the model with these context parameters (``ContextPlan.worker_params``);
        returns what was built: n_ctx, n_batch, bos_token, eos_token, gpu_offload and, when
        it can rate continuations, scoring."""
        ...

    def tokenize(self, text: str) -> list[int]:
        """The prompt's tokens (requests count them)."""
        ...

    def generate(self, message: dict[str, Any], send_text: Callable[[str], None]) -> dict[str, Any]:
        """Write a reply to a generate request (prompt, max_tokens, sampling, and maybe
        grammar, grammar_tokens, stop), its text sent through ``send_text`` as it comes;
        returns its stats (``_generation_stats``) and ``stop_text``."""
        ...

    def score(self, prompt: str, continuations: list[str]) -> list[float | None]:
        """The log-likelihood of each continuation after ``prompt`` (None once cancelled)."""
        ...


class Worker:
    """Serves protocol requests, one at a time, with a backend."""

    def __init__(
        self, out: protocol.LineWriter, make_backend: Callable[[threading.Event], Backend]
    ) -> None:
        self._out = out
        self._cancel = threading.Event()
        self._current_id: int | None = None
        self._backend = make_backend(self._cancel)

    # --- called from the stdin reader thread ---------------------------------------------
    def cancel(self, request_id: int | None) -> None:
        if request_id is None or request_id == self._current_id:
            self._cancel.set()

    # --- called from the main thread, one request at a time -------------------------------
    def handle(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        self._current_id = request_id
        self._cancel.clear()
        try:
            operation = message.get("op")
            if operation == protocol.OP_LOAD:
                result = self._backend.load(message["model_path"], message["params"])
            elif operation == protocol.OP_COUNT:
                result = {"tokens": len(self._backend.tokenize(message["text"]))}
            elif operation == protocol.OP_GENERATE:
                result = self._backend.generate(message, self._text_sender(request_id))
            elif operation == protocol.OP_SCORE:
                scores = self._backend.score(message["prompt"], message["continuations"])
                result = {"scores": scores}
            else:
                raise InvalidRequest(f"unknown engine operation {operation!r}")
            self._out.send({"id": request_id, "event": protocol.EVENT_RESULT, "result": result})
        except LocalWorkError as error:
            self._out.send(
                {"id": request_id, "event": protocol.EVENT_ERROR, "error": error.to_dict()}
            )
        except Exception as error:  # reported to the UI, which logs it; the worker lives on
            failure = GenerationFailed(f"The model engine reported an error: {error}")
            self._out.send(
                {"id": request_id, "event": protocol.EVENT_ERROR, "error": failure.to_dict()}
            )
        finally:
            self._current_id = None

    def _text_sender(self, request_id: int | None) -> Callable[[str], None]:
        def send(text: str) -> None:
            self._out.send({"id": request_id, "event": protocol.EVENT_TOKEN, "text": text})

        return send


class LlamaBackend:
    """llama.cpp's ``Llama``: the real model, imported only when a model is loaded."""

    def __init__(self, cancelled: threading.Event) -> None:
        self._cancel = cancelled
        self._llm: Any = None
        self._bos_text = ""
        self._abort_poll: AbortPoll | None = None
        self._grammars: dict[str, Any] = {}  # compiled JSON-schema grammars, by schema

    def load(self, model_path: str, params: dict[str, Any]) -> dict[str, Any]:
        import llama_cpp

        self._llm = None
        cache_type = _CACHE_TYPES[params["kv_cache_type"]]
        try:
            # Every context parameter is explicit: library defaults caused the seed's crash.
            llm = llama_cpp.Llama(
                model_path=model_path,
                n_ctx=int(params["n_ctx"]),
                n_batch=int(params["n_batch"]),
                n_ubatch=int(params["n_ubatch"]),
                n_threads=int(params["n_threads"]),
                n_threads_batch=int(params["n_threads_batch"]),
                use_mmap=bool(params["use_mmap"]),
                use_mlock=bool(params["use_mlock"]),
                n_gpu_layers=int(params["n_gpu_layers"]),
                flash_attn=bool(params["flash_attn"]),
                type_k=cache_type,
                type_v=cache_type,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as error:
            raise ModelLoadFailed(
                f"llama.cpp could not load {os.path.basename(model_path)}: {error}. The file may "
                "be damaged or its architecture unsupported; try another model."
            ) from None
        self._llm = llm
        self._abort_poll = AbortPoll(llm, self._cancel)
        model = llm._model
        self._bos_text = model.token_get_text(model.token_bos()) if model.token_bos() >= 0 else ""
        eos = model.token_eos()
        return {
            "n_ctx": llm.n_ctx(),
            "n_batch": llm.n_batch,
            "bos_token": self._bos_text,
            "eos_token": model.token_get_text(eos) if eos >= 0 else "",
            "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
            "scoring": True,
        }

    def _require_model(self) -> Any:
        if self._llm is None:
            raise InvalidRequest("no model is loaded in the engine")
        return self._llm

    def tokenize(self, text: str) -> list[int]:
        llm = self._require_model()
        # A template that writes the BOS token itself must not get a second one.
        add_bos = not (self._bos_text and text.startswith(self._bos_text))
        return llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def generate(self, message: dict[str, Any], send_text: Callable[[str], None]) -> dict[str, Any]:
        llm = self._require_model()
        tokens = self.tokenize(message["prompt"])
        max_tokens = int(message["max_tokens"])
        n_ctx = llm.n_ctx()
        if not tokens:
            raise InvalidRequest("the prompt is empty")
        if max_tokens < 1 or len(tokens) + max_tokens > n_ctx:
            raise ContextOverflow(
                f"The prompt is {len(tokens)} tokens and the reply needs room for {max_tokens}, "
                f"but the context holds {n_ctx}."
            )
        sampling = message["sampling"]
        seed = int(sampling.get("seed", -1))
        llm.set_seed(seed if seed >= 0 else random.randrange(2**31))

        started = time.perf_counter()
        try:
            reused = self._prefill(llm, tokens)
        except Cancelled:
            return _generation_stats("cancelled", tokens, 0, 0, started, None)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        vocab = llm._model.vocab
        from llama_cpp import llama_vocab_is_eog

        generated, first_token_at, stop_reason = 0, None, "length"
        stops = StopMatcher(message.get("stop") or [])
        stream_out = _TextStream(send_text)
        grammar = self._grammar(message.get("grammar"))
        stream = _sampled(llm, sampling, grammar, message.get("grammar_tokens"), self._decode)
        for token in self._until_aborted(stream):
            first_token_at = first_token_at or time.perf_counter()
            if llama_vocab_is_eog(vocab, token):
                stop_reason = "eos"
                break
            generated += 1
            piece = llm.detokenize([token])
            if not piece:  # a control token, hidden from the text: it may be a turn marker
                held = stops.feed_marker(
                    llm.detokenize([token], special=True).decode("utf-8", "replace")
                )
                stream_out.add(held or "")
            else:
                stream_out.add(stops.feed(decoder.decode(piece)))
            if stops.matched is not None:
                stop_reason = "stop"
                break
            if self._cancel.is_set():
                stop_reason = "cancelled"
                break
            if generated >= max_tokens:
                break
        if self._cancel.is_set():
            stop_reason = "cancelled"
        if stops.matched is None:
            stream_out.add(stops.feed(decoder.decode(b"", final=True)) + stops.flush())
        stream_out.flush()
        stats = _generation_stats(stop_reason, tokens, reused, generated, started, first_token_at)
        return {**stats, "stop_text": stops.matched}

    def score(self, prompt: str, continuations: list[str]) -> list[float | None]:
        """The log-likelihood of each continuation after ``prompt`` (None once cancelled).

        Each continuation is tokenized together with the prompt, so a token that spans the
        join is scored as the model would write it. The shared prefix stays in the KV cache,
        so each continuation costs only its own tokens.
        """
        import numpy

        llm = self._require_model()
        prompt_tokens = self.tokenize(prompt)
        scores: list[float | None] = []
        for continuation in continuations:
            if self._cancel.is_set():
                scores.append(None)
                continue
            tokens = self.tokenize(prompt + continuation)
            if len(tokens) + 1 > llm.n_ctx():
                raise ContextOverflow(
                    f"Scoring needs {len(tokens)} tokens, but the context holds {llm.n_ctx()}."
                )
            shared = 0
            for before, after in zip(prompt_tokens, tokens, strict=False):
                if before != after:
                    break
                shared += 1
            shared = max(1, min(shared, len(tokens) - 1))
            try:
                self._prefill(llm, tokens[:shared])  # fresh logits for the first new token
                total = 0.0
                for index, token in enumerate(tokens[shared:]):
                    logits = numpy.ctypeslib.as_array(
                        llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),)
                    ).astype(numpy.float64)
                    top = logits.max()
                    total += float(logits[token] - top - numpy.log(numpy.exp(logits - top).sum()))
                    if shared + index + 1 < len(tokens):
                        llm.eval([token])
            except (Cancelled, RuntimeError):
                if not self._cancel.is_set():
                    raise
                scores.append(None)
                continue
            scores.append(total)
        return scores

    def _grammar(self, request: dict[str, Any] | None) -> Any:
        """A grammar that only lets the model write JSON matching ``request["schema"]``, with
        object properties in ``request["property_order"]``, or one given as ``request["gbnf"]``
        (cached)."""
        if request is None:
            return None
        key = json.dumps(request, sort_keys=True)
        if key not in self._grammars:
            from llama_cpp import LlamaGrammar
            from llama_cpp.llama_grammar import json_schema_to_gbnf

            try:
                rules = request.get("gbnf") or json_schema_to_gbnf(
                    json.dumps(request["schema"]), prop_order=request.get("property_order")
                )
                self._grammars[key] = LlamaGrammar.from_string(rules, verbose=False)
            except (ValueError, RuntimeError) as error:
                problem = f"the tool schemas cannot be turned into a grammar: {error}"
                raise InvalidRequest(problem) from None
        return self._grammars[key]

    def _decode(self, tokens: list[int]) -> None:
        """Evaluate a generated token; the abort callback stays on only while decodes are slow."""
        started = time.perf_counter()
        self._llm.eval(tokens)
        if self._abort_poll is not None:
            self._abort_poll.switch(time.perf_counter() - started >= ABORT_POLL_MIN_SECONDS)

    def _until_aborted(self, stream: Iterator[int]) -> Iterator[int]:
        """Yield tokens; a decode aborted by Stop ends the stream instead of failing it."""
        try:
            yield from stream
        except RuntimeError:
            if not self._cancel.is_set():
                raise

    def _prefill(self, llm: Any, tokens: Sequence[int]) -> int:
        """Evaluate the prompt in n_batch chunks, reusing the cached prefix but never the last
        token, whose logits the first sample needs fresh.

        Chunking keeps every decode within n_batch (the classic GGML_ASSERT crash) and lets
        Stop interrupt a long prompt between chunks. Returns how many tokens were reused.
        """
        cached = 0
        if not (getattr(llm, "_is_recurrent", False) or getattr(llm, "_is_hybrid", False)):
            for previous, current in zip(llm._input_ids[: llm.n_tokens], tokens[:-1], strict=False):
                if previous != current:
                    break
                cached += 1
        llm.n_tokens = cached
        pending = list(tokens[cached:])
        if self._abort_poll is not None:
            self._abort_poll.switch(True)  # a prompt chunk can take seconds
        for start in range(0, len(pending), llm.n_batch):
            try:
                llm.eval(pending[start : start + llm.n_batch])
            except RuntimeError:
                if self._cancel.is_set():  # the abort callback interrupted this chunk
                    raise Cancelled from None
                raise
            if self._cancel.is_set():
                raise Cancelled
        return cached


def _sampled(
    llm: Any,
    sampling: dict[str, Any],
    grammar: Any,
    grammar_tokens: int | None,
    decode: Callable[[list[int]], None] | None = None,
) -> Iterator[int]:
    """Tokens sampled after the prompt ``_prefill`` has evaluated. Each token is
    yielded before it is evaluated (by ``decode``, ``llm.eval`` unless given), so a reply
    that ends there costs no decode. With ``grammar_tokens`` the grammar binds only that many
    first tokens: a rule for how a reply starts then costs nothing after its start."""
    decode = decode or llm.eval
    chain = {
        "temp": float(sampling["temperature"]),
        "top_p": float(sampling["top_p"]),
        "top_k": int(sampling["top_k"]),
        "min_p": float(sampling["min_p"]),
        "repeat_penalty": 1.0,  # applied by RepeatPenalty: see there
    }
    sampler = llm._init_sampler(grammar=grammar, **chain)
    penalty = RepeatPenalty(float(sampling["repeat_penalty"]), llm.last_n_tokens_size)
    produced = 0
    while True:
        penalty.apply(llm)
        token = sampler.sample(llm._ctx, -1)
        yield token
        penalty.written(token)
        produced += 1
        if grammar is not None and produced == grammar_tokens:
            sampler = llm._init_sampler(grammar=None, **chain)
        decode([token])


class AbortPoll:
    """llama.cpp's abort callback, through which Stop interrupts a decode in progress.

    llama.cpp calls it after every node of the compute graph: some 600 calls into Python for
    each of the bundled model's tokens, 1.4 % of its generation speed. A prompt chunk, or a
    big model's token, takes long enough to need it; a token that takes a few milliseconds
    does not (Stop is seen before the next one), so ``switch`` turns it off and on.
    """

    def __init__(self, llm: Any, cancelled: threading.Event) -> None:
        import llama_cpp

        self._set = llama_cpp.llama_set_abort_callback
        self._context = llm._ctx.ctx
        # Both kept referenced: llama.cpp holds a pointer to the one set.
        self._callback = llama_cpp.ggml_abort_callback(lambda _: cancelled.is_set())
        self._none = llama_cpp.ggml_abort_callback(0)
        self.on = False
        self.switch(True)

    def switch(self, on: bool) -> None:
        if on != self.on:
            self._set(self._context, self._callback if on else self._none, None)
            self.on = on


class RepeatPenalty:
    """llama.cpp's repeat penalty, applied to the next token's logits in place: each distinct
    token among the last ``window`` written has its logit divided by ``penalty`` (multiplied
    when it is negative). llama.cpp's own penalties sampler looks up every token of the
    vocabulary for each token it samples: 0.3 ms of the bundled model's ~11 ms token, where
    touching the few recent tokens' logits costs a few microseconds."""

    def __init__(self, penalty: float, window: int) -> None:
        self._penalty = penalty
        self._recent: deque[int] = deque(maxlen=window)

    def apply(self, llm: Any) -> None:
        if self._penalty == 1.0 or not self._recent:
            return
        import numpy

        logits = numpy.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(llm.n_vocab(),))
        ids = numpy.fromiter(set(self._recent), dtype=numpy.intc)
        values = logits[ids]
        logits[ids] = numpy.where(values <= 0, values * self._penalty, values / self._penalty)

    def written(self, token: int) -> None:
        self._recent.append(token)


class StopMatcher:
    """Finds stop strings in streamed text, holding back what could be the start of one."""

    def __init__(self, stops: list[str]) -> None:
        self._stops = [stop for stop in stops if stop]
        self._held = ""
        self.matched: str | None = None

    def feed(self, text: str) -> str:
        """Take new text; return the part that is safe to show (nothing after a stop)."""
        if self.matched is not None:
            return ""
        self._held += text
        for stop in self._stops:
            at = self._held.find(stop)
            if at >= 0:
                self.matched = stop
                safe, self._held = self._held[:at], ""
                return safe
        keep = max((_overlap(self._held, stop) for stop in self._stops), default=0)
        safe, self._held = (
            self._held[: len(self._held) - keep],
            self._held[len(self._held) - keep :],
        )
        return safe

    def feed_marker(self, marker: str) -> str | None:
        """A control token's text, which the reply does not show: when it is a stop (a turn
        marker that is not an end-of-generation token), end here. Returns the held text."""
        if self.matched is not None or marker not in self._stops:
            return None
        self.matched = marker
        return self.flush()

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held


def _overlap(text: str, stop: str) -> int:
    """Length of the longest end of ``text`` that is a beginning of ``stop``."""
    for size in range(min(len(text), len(stop) - 1), 0, -1):
        if stop.startswith(text[-size:]):
            return size
    return 0


class _TextStream:
    """Coalesces streamed text into messages at most every STREAM_FLUSH_SECONDS."""

    def __init__(self, send: Callable[[str], None]) -> None:
        self._send = send
        self._pending: list[str] = []
        self._last_flush = 0.0

    def add(self, text: str) -> None:
        if text:
            self._pending.append(text)
        if self._pending and time.perf_counter() - self._last_flush >= STREAM_FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._send("".join(self._pending))
            self._pending.clear()
        self._last_flush = time.perf_counter()


def _generation_stats(
    stop_reason: str,
    tokens: Sequence[int],
    reused: int,
    generated: int,
    started: float,
    first_token_at: float | None,
) -> dict[str, Any]:
    finished = time.perf_counter()
    first_token_at = first_token_at or finished
    generation_seconds = finished - first_token_at
    # The first token's time belongs to prompt processing; speed counts the ones after it.
    speed = (generated - 1) / generation_seconds if generated > 1 and generation_seconds else None
    return {
        "stop_reason": stop_reason,
        "prompt_tokens": len(tokens),
        "prompt_tokens_reused": reused,
        "completion_tokens": generated,
        "time_to_first_token_ms": round((first_token_at - started) * 1000, 1),
        "generation_seconds": round(generation_seconds, 4),
        "tokens_per_second": round(speed, 2) if speed else None,
    }


def _read_commands(worker: Worker, commands: queue.Queue[dict[str, Any] | None]) -> None:
    for line in sys.stdin.buffer:
        try:
            message = protocol.decode(line)
        except ValueError:
            continue
        if message.get("op") == protocol.OP_CANCEL:
            worker.cancel(message.get("id"))
        else:
            commands.put(message)
    commands.put(None)  # the UI process closed our stdin: time to go


def main() -> int:
    return serve(LlamaBackend)


def serve(make_backend: Callable[[threading.Event], Backend]) -> int:
    """Run a worker with this backend on this process's stdin/stdout until the UI process
    closes stdin."""
    # Keep the protocol on a private copy of stdout; native code printing to fd 1 lands in
    # stderr (the engine log) instead of corrupting the message stream.
    protocol_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out = protocol.LineWriter(protocol_out)
    worker = Worker(out, make_backend)
    commands: queue.Queue[dict[str, Any] | None] = queue.Queue()
    threading.Thread(target=_read_commands, args=(worker, commands), daemon=True).start()
    out.send({"event": protocol.EVENT_HELLO, "pid": os.getpid()})
    while (message := commands.get()) is not None:
        worker.handle(message)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
