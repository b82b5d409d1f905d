"""The curated catalog: instruct models that run on an 8 GB laptop and call tools well.

Only repo ids and the preferred quantization are written here. Sizes, hashes and the exact
files come from the Hub's metadata at run time (``hub.py``), so nothing here can go stale.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CatalogEntry:
    repo_id: str
    title: str
    quantization: str  # the file picked by default, e.g. "Q4_K_M"
    note: str = ""
    recommended: bool = False
    # The training context in tokens (a fixed fact of the model): which ones can take more
    # than the loaded model when a message does not fit.
    context_length: int = 0


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        "Qwen2.5 0.5B Instruct",
        "Q4_K_M",
        "Smallest Qwen; quick answers, simple tool calls.",
        context_length=32768,
    ),
    CatalogEntry(
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        "Qwen2.5 1.5B Instruct",
        "Q4_K_M",
        "Recommended: good tool calls at laptop speed.",
        recommended=True,
        context_length=32768,
    ),
    CatalogEntry(
        "Qwen/Qwen2.5-3B-Instruct-GGUF",
        "Qwen2.5 3B Instruct",
        "Q4_K_M",
        "Better answers; needs about 3 GB of free memory.",
        context_length=32768,
    ),
    CatalogEntry(
        "Qwen/Qwen2.5-7B-Instruct-GGUF",
        "Qwen2.5 7B Instruct",
        "Q4_K_M",
        "Strongest here; split into parts, needs about 6 GB free.",
        context_length=32768,
    ),
    CatalogEntry(
        "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "Llama 3.2 1B Instruct",
        "Q4_K_M",
        "Meta's small model; native tool calling.",
        context_length=131072,
    ),
    CatalogEntry(
        "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama 3.2 3B Instruct",
        "Q4_K_M",
        "Meta's 3B; native tool calling.",
        context_length=131072,
    ),
    CatalogEntry(
        "HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF",
        "SmolLM2 1.7B Instruct",
        "Q4_K_M",
        "Apache-2.0; larger sibling of the bundled model.",
        context_length=8192,
    ),
)


def catalog_entry(repo_id: str) -> CatalogEntry | None:
    return next((entry for entry in CATALOG if entry.repo_id.lower() == repo_id.lower()), None)
