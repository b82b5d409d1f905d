"""The worker's sampling loop against llama-cpp-python's own ``generate``, with the bundled model.

The worker applies the repeat penalty itself (``RepeatPenalty``) instead of through llama.cpp's
penalties sampler; the tokens must be exactly the ones llama.cpp's chain picks, greedy and
seeded, with a grammar binding the first tokens and without. And Stop's abort callback
(``AbortPoll``), which the worker switches off while tokens decode quickly: on, it interrupts a
decode in progress; off, the decode runs to its end.

These tests load llama.cpp in the test process, so they run after ``test_chat.py``, which
checks that the app's own process never does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import islice
from typing import Any

import pytest

from localwork.engine.local.worker import AbortPoll, _sampled
from localwork.models.registry import bundled_model_path

PROMPT = (
    "<|im_start|>user\nList ten animals, one a line, and say one thing about each.<|im_end|>\n"
    "<|im_start|>assistant\n"
)
COUNT = 80


@pytest.fixture(scope="module")
def llm() -> Iterator[Any]:
    from llama_cpp import Llama

    model = Llama(str(bundled_model_path()), n_ctx=1024, n_threads=2, verbose=False)
    yield model
    model.close()


def _sampling(temperature: float, repeat_penalty: float) -> dict[str, Any]:
    return {
        "temperature": temperature,
        "top_p": 0.95,
        "top_k": 40,
        "min_p": 0.05,
        "repeat_penalty": repeat_penalty,
    }


def _theirs(llm: Any, tokens: list[int], sampling: dict[str, Any], seed: int) -> list[int]:
    llm.reset()
    llm.set_seed(seed)
    llm.eval(tokens)  # the same decodes as ours (batches change the logits' last bits);
    # generate() then finds the whole prompt cached and samples at once
    params = {
        "temp": sampling["temperature"],
        "top_p": sampling["top_p"],
        "top_k": sampling["top_k"],
        "min_p": sampling["min_p"],
        "repeat_penalty": sampling["repeat_penalty"],
    }
    return list(islice(llm.generate(tokens, **params), COUNT))


def _ours(llm: Any, tokens: list[int], sampling: dict[str, Any], seed: int) -> list[int]:
    llm.reset()
    llm.set_seed(seed)
    llm.eval(tokens)  # what the worker's _prefill does
    return list(islice(_sampled(llm, sampling, None, None), COUNT))


@pytest.mark.parametrize(
    ("temperature", "repeat_penalty"), [(0.0, 1.1), (0.0, 1.5), (0.8, 1.1), (0.8, 1.0)]
)
def test_the_worker_samples_the_tokens_llama_cpp_samples(llm, temperature, repeat_penalty):
    tokens = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
    sampling = _sampling(temperature, repeat_penalty)
    theirs = _theirs(llm, tokens, sampling, seed=7)
    assert len(theirs) == COUNT
    assert _ours(llm, tokens, sampling, seed=7) == theirs


def test_a_strong_penalty_changes_what_is_written(llm):
    """The penalty is applied at all: without it, greedy text differs from with 1.5."""
    tokens = llm.tokenize(PROMPT.encode(), add_bos=False, special=True)
    plain = _ours(llm, tokens, _sampling(0.0, 1.0), seed=1)
    penalised = _ours(llm, tokens, _sampling(0.0, 1.5), seed=1)
    assert plain != penalised


def test_the_abort_callback_interrupts_a_decode_only_while_it_is_on(llm):
    stop = threading.Event()
    poll = AbortPoll(llm, stop)
    tokens = llm.tokenize(b"The cat sat on the mat.", add_bos=True)
    assert poll.on  # on from the start: the first decode may be a long prompt
    stop.set()  # Stop was pressed
    llm.reset()
    with pytest.raises(RuntimeError):  # llama_cpp's error for an aborted decode
        llm.eval(tokens)
    poll.switch(False)
    assert not poll.on
    llm.reset()
    llm.eval(tokens)  # not polled: the decode ends
    assert llm.n_tokens == len(tokens)
    poll.switch(True)
    llm.reset()
    with pytest.raises(RuntimeError):
        llm.eval(tokens)
    poll.switch(False)  # the module's model is shared: leave it as it was
