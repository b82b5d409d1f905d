"""Issue-4 rules with the real model: fast Stop, cache types, bad models, crash loops."""

import os
import signal
import threading
import time

import pytest

from localwork.engine.local.exits import oom_kills
from localwork.errors import ModelLoadFailed
from localwork.models.registry import bundled_model_path
from tests.model.test_engine import SAMPLING, chat_prompt, generate


def test_stop_interrupts_prompt_processing(start_app):
    app = start_app({"n_ctx": 8192, "n_batch": 2048})
    prompt = chat_prompt(app, "Summarise: " + "the cat sat on the mat. " * 400)
    outcome = {}

    def run():
        outcome["result"] = app.runtime.generate(prompt, 16, SAMPLING, lambda _: None)

    runner = threading.Thread(target=run)
    runner.start()
    time.sleep(0.3)  # well inside the first 2048-token chunk
    app.runtime.cancel()
    runner.join(30)
    result = outcome["result"]
    assert result["stop_reason"] == "cancelled"
    assert result["completion_tokens"] == 0
    # The interrupted context is still consistent: the same prompt now completes.
    _, _, again = generate(app, prompt, max_tokens=4)
    assert again["stop_reason"] in {"eos", "length"}


def test_flash_attention_with_a_quantized_kv_cache(start_app):
    app = start_app({"n_ctx": 2048, "flash_attn": True, "kv_cache_type": "q8_0"})
    loaded = app.runtime.ensure_ready()
    assert loaded.plan.kv_cache_type == "q8_0" and loaded.plan.flash_attn
    text, _, _ = generate(app, chat_prompt(app, "Say hello."), max_tokens=16)
    assert text.strip()


def test_an_unsupported_architecture_is_a_clear_error(start_app, paths):
    data = bundled_model_path().read_bytes()
    marker = b"general.architecture"
    at = data.index(marker) + len(marker) + 4 + 8  # skip the value type and string length
    assert data[at : at + 5] == b"llama"
    (paths.models_dir / "alien.gguf").write_bytes(data[:at] + b"alien" + data[at + 5 :])
    app = start_app()
    app.runtime.load("local/alien.gguf")
    with pytest.raises(ModelLoadFailed, match=r"could not load alien\.gguf"):
        app.runtime.ensure_ready(timeout=60)
    assert app.runtime.status()["state"] == "error"


def test_repeated_crashes_stop_the_restart_loop_until_the_user_chooses(start_app, watch):
    app = start_app()
    watcher = watch(app.events)
    for _ in range(3):
        app.runtime.ensure_ready(timeout=60)
        os.kill(app.runtime.status()["engine_pid"], signal.SIGKILL)
        watcher.wait_for("engine_crashed", timeout=30)
    deadline = time.monotonic() + 30
    while app.runtime.status()["state"] != "error" and time.monotonic() < deadline:
        time.sleep(0.05)
    status = app.runtime.status()
    assert status["state"] == "error"
    assert "crashed 3 times in a row" in status["error"]["message"]
    # SIGKILL, in plain words: killed by another program (this test) while memory was free.
    assert "was killed (SIGKILL)" in status["error"]["message"]
    if oom_kills() is not None:
        assert "memory did not run out" in status["error"]["message"]
    app.runtime.load_and_wait(None, timeout=60)  # an explicit choice starts afresh
    assert app.runtime.status()["state"] == "ready"
