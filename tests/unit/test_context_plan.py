import pytest

from localwork.engine.local.context_plan import AUTO_CONTEXT_CAP, physical_cores, plan_context
from localwork.errors import ModelLoadFailed, SettingsError
from localwork.models.gguf import read_gguf
from localwork.models.registry import bundled_model_path
from localwork.settings import ContextSettings

GIB = 2**30


@pytest.fixture(scope="module")
def info():
    return read_gguf(bundled_model_path())


def test_auto_context_is_training_length_when_memory_allows(info):
    plan = plan_context(ContextSettings(), info, 100_000_000, available_bytes=16 * GIB)
    assert plan.n_ctx == min(info.context_length, AUTO_CONTEXT_CAP)
    assert plan.kv_bytes == plan.n_ctx * info.kv_bytes_per_token()


def test_auto_context_shrinks_to_free_memory(info):
    per_token = info.kv_bytes_per_token()
    available = 2 * (100_000_000 + 1000 * per_token)  # half of it leaves room for ~1000 tokens
    plan = plan_context(ContextSettings(), info, 100_000_000, available_bytes=available)
    assert plan.n_ctx == 768  # rounded down to a multiple of 256


def test_not_enough_memory_is_a_clear_error(info):
    with pytest.raises(ModelLoadFailed, match="Not enough free memory"):
        plan_context(ContextSettings(), info, 100_000_000, available_bytes=150_000_000)


def test_explicit_context_beyond_training_is_refused(info):
    with pytest.raises(SettingsError, match="beyond this model's training length"):
        plan_context(ContextSettings(n_ctx=16384), info, 1, available_bytes=16 * GIB)


def test_every_parameter_is_explicit(info):
    plan = plan_context(
        ContextSettings(n_ctx=256, n_batch=256, n_ubatch=64), info, 1, available_bytes=16 * GIB
    )
    params = plan.worker_params()
    assert params == {
        "n_ctx": 256,
        "n_batch": 256,
        "n_ubatch": 64,
        "n_threads": physical_cores(),
        "n_threads_batch": physical_cores(),
        "n_gpu_layers": 0,
        "flash_attn": False,
        "kv_cache_type": "f16",
        "use_mmap": True,
        "use_mlock": False,
    }


def test_quantized_kv_cache_takes_less_memory(info):
    memory = 16 * GIB
    f16 = plan_context(ContextSettings(n_ctx=4096), info, 1, available_bytes=memory)
    q8 = plan_context(
        ContextSettings(n_ctx=4096, flash_attn=True, kv_cache_type="q8_0"),
        info,
        1,
        available_bytes=memory,
    )
    assert q8.kv_bytes == pytest.approx(f16.kv_bytes * 17 / 32, rel=0.01)


def test_micro_batch_follows_the_batch_unless_set(info):
    small = plan_context(ContextSettings(n_ctx=1024, n_batch=64), info, 1, available_bytes=16 * GIB)
    large = plan_context(
        ContextSettings(n_ctx=4096, n_batch=2048), info, 1, available_bytes=16 * GIB
    )
    assert (small.n_batch, small.n_ubatch) == (64, 64)
    assert (large.n_batch, large.n_ubatch) == (2048, 512)
