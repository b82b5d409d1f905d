"""Explicit context parameters for llama.cpp, from settings, GGUF metadata and free memory.

The seed crash came from a context created with library defaults; every value the worker
uses comes from here, and every one is set.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

import psutil

from localwork.errors import ModelLoadFailed, SettingsError
from localwork.models.gguf import GgufInfo
from localwork.settings import ContextSettings

AUTO_CONTEXT_CAP = 8192
MIN_CONTEXT = 512
DEFAULT_UBATCH = 512
_CONTEXT_STEP = 256
# Share of available memory the KV cache may take after the weights.
_KV_MEMORY_SHARE = 0.5
# Bytes per cached value: f16, and the block sizes of the quantized GGML types.
KV_BYTES_PER_VALUE = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}


@dataclass(frozen=True)
class ContextPlan:
    n_ctx: int
    n_batch: int
    n_ubatch: int
    n_threads: int
    n_threads_batch: int
    n_gpu_layers: int
    flash_attn: bool
    kv_cache_type: str
    use_mmap: bool
    use_mlock: bool
    kv_bytes: int

    def worker_params(self) -> dict[str, int | bool | str]:
        params = asdict(self)
        params.pop("kv_bytes")
        return params


def physical_cores() -> int:
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def plan_context(
    settings: ContextSettings,
    info: GgufInfo,
    weights_bytes: int,
    available_bytes: int | None = None,
) -> ContextPlan:
    """Choose every context parameter explicitly.

    Raises:
        SettingsError: the requested context is longer than the model was trained for.
        ModelLoadFailed: not even the minimum context fits in the memory that is free.
    """
    available = psutil.virtual_memory().available if available_bytes is None else available_bytes
    per_token = info.kv_bytes_per_token(KV_BYTES_PER_VALUE[settings.kv_cache_type]) or 1
    trained = info.context_length or AUTO_CONTEXT_CAP
    memory_tokens = int((available * _KV_MEMORY_SHARE - weights_bytes) // per_token)

    if settings.n_ctx == "auto":
        n_ctx = min(trained, AUTO_CONTEXT_CAP, memory_tokens)
        n_ctx -= n_ctx % _CONTEXT_STEP
        if n_ctx < MIN_CONTEXT:
            raise ModelLoadFailed(
                f"Not enough free memory for this model: {available / 2**30:.1f} GiB is free, "
                f"the weights take {weights_bytes / 2**30:.1f} GiB and even a {MIN_CONTEXT}-"
                "token context does not fit. Close other programs or pick a smaller model."
            )
    else:
        n_ctx = settings.n_ctx
        if n_ctx > trained:
            problem = (
                f"{n_ctx} tokens is beyond this model's training length ({trained} tokens); "
                f"choose {trained} or less, or Auto"
            )
            raise SettingsError(f"context.n_ctx: {problem}", fields={"context.n_ctx": problem})

    n_batch = min(settings.n_batch, n_ctx)
    cores = physical_cores()
    return ContextPlan(
        n_ctx=n_ctx,
        n_batch=n_batch,
        n_ubatch=min(settings.n_ubatch or DEFAULT_UBATCH, n_batch),
        n_threads=settings.n_threads or cores,
        n_threads_batch=settings.n_threads_batch or cores,
        n_gpu_layers=settings.n_gpu_layers,
        flash_attn=settings.flash_attn,
        kv_cache_type=settings.kv_cache_type,
        use_mmap=settings.use_mmap,
        use_mlock=settings.use_mlock,
        kv_bytes=int(n_ctx * per_token),
    )
