"""What a model is and whether it fits: GGUF facts plus a fit badge for the models pane.

The badge compares the weights plus the KV cache at the chosen context (the same per-token
figure ``context_plan`` uses) with the memory that is free right now.
"""

from __future__ import annotations

from typing import Any, Literal

from localwork.engine.local.context_plan import AUTO_CONTEXT_CAP, KV_BYTES_PER_VALUE
from localwork.engine.local.template import ChatTemplate
from localwork.errors import LocalWorkError
from localwork.models import prompt_formats
from localwork.models.gguf import GgufInfo, read_gguf
from localwork.models.registry import InstalledModel
from localwork.settings import ContextSettings

Fit = Literal["fits", "tight", "wont_fit"]
FIT_LABELS: dict[Fit, str] = {"fits": "fits", "tight": "tight", "wont_fit": "won't fit"}
# llama.cpp's compute buffers and the worker's own memory, beyond weights and KV cache.
_OVERHEAD_SHARE = 0.10
_OVERHEAD_FIXED = 200 * 2**20
# Below this share of free memory a model leaves room for everything else that runs.
_COMFORTABLE_SHARE = 0.75


def memory_needed(weights_bytes: int, kv_bytes: int = 0) -> int:
    return int(weights_bytes * (1 + _OVERHEAD_SHARE) + kv_bytes + _OVERHEAD_FIXED)


def fit_for(needed: int, available: int) -> Fit:
    if needed <= available * _COMFORTABLE_SHARE:
        return "fits"
    return "tight" if needed <= available else "wont_fit"


def chosen_context(settings: ContextSettings, info: GgufInfo) -> int:
    """The context the badge is judged at: the set length, or what Auto aims for."""
    if isinstance(settings.n_ctx, int):
        return settings.n_ctx
    return min(info.context_length or AUTO_CONTEXT_CAP, AUTO_CONTEXT_CAP)


def supports_tools(info: GgufInfo) -> bool:
    try:
        return ChatTemplate(info.chat_template).supports_tools
    except LocalWorkError:
        return False


def describe_model(
    model: InstalledModel,
    settings: ContextSettings,
    available: int,
    prompt_format: str | None = None,
) -> dict[str, Any]:
    """Everything the pane shows for an installed model, including its fit badge and how it
    is prompted (``prompt_format`` is the user's choice for it, if any)."""
    base = {**model.to_dict(), "disk_bytes": model.disk_bytes}
    try:
        info = read_gguf(model.path)
    except LocalWorkError as error:
        return {**base, "error": error.message, "fit": "wont_fit", "fit_label": "unreadable"}
    n_ctx = chosen_context(settings, info)
    kv_bytes = int(n_ctx * info.kv_bytes_per_token(KV_BYTES_PER_VALUE[settings.kv_cache_type]))
    needed = memory_needed(model.size_bytes, kv_bytes)
    fit = fit_for(needed, available)
    return {
        **base,
        "architecture": info.architecture,
        "parameters": str(info.metadata.get("general.size_label") or "") or None,
        "quantization": info.quantization,
        "training_context": info.context_length,
        "supports_tools": supports_tools(info),
        "chat_template": bool(info.chat_template),
        "prompt_format": prompt_format or info.default_prompt_format,
        "default_prompt_format": info.default_prompt_format,
        "prompt_formats": prompt_formats.choices(bool(info.chat_template)),
        "n_ctx": n_ctx,
        "kv_bytes": kv_bytes,
        "memory_needed": needed,
        "fit": fit,
        "fit_label": FIT_LABELS[fit],
    }
