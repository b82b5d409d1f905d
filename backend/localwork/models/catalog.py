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


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        "Qwen2.5 0.5B Instruct",
        "Q4_K_M",
        "Smallest Qwen; quick answers, simple tool calls.",
    ),
    CatalogEntry(
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        "Qwen2.5 1.5B Instruct",
        "Q4_K_M",
        "Recommended: good tool calls at laptop speed.",
        recommended=True,
    ),
    CatalogEntry(
        "Qwen/Qwen2.5-3B-Instruct-GGUF",
        "Qwen2.5 3B Instruct",
        "Q4_K_M",
        "Better answers; needs about 3 GB of free memory.",
    ),
    CatalogEntry(
        "Qwen/Qwen2.5-7B-Instruct-GGUF",
        "Qwen2.5 7B Instruct",
        "Q4_K_M",
        "Strongest here; split into parts, needs about 6 GB free.",
    ),
    CatalogEntry(
        "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "Llama 3.2 1B Instruct",
        "Q4_K_M",
        "Meta's small model; native tool calling.",
    ),
    CatalogEntry(
        "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama 3.2 3B Instruct",
        "Q4_K_M",
        "Meta's 3B; native tool calling.",
    ),
    CatalogEntry(
        "HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF",
        "SmolLM2 1.7B Instruct",
        "Q4_K_M",
        "Apache-2.0; larger sibling of the bundled model.",
    ),
)


def catalog_entry(repo_id: str) -> CatalogEntry | None:
    return next((entry for entry in CATALOG if entry.repo_id.lower() == repo_id.lower()), None)
