"""What the Hub offers, as plain values: files with size and sha256, GGUF choices (a single
file or every part of a split one), and the rules for names. No network, no huggingface_hub:
the registry and the transfer use these, and the app starts without importing the Hub client.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from localwork.errors import InvalidRequest

DEFAULT_ENDPOINT = "https://huggingface.co"
TOKEN_HELP = (
    "Accept the model's licence on its Hugging Face page, then give LocalWork Hero an access "
    "token: set HF_TOKEN, or paste it in Settings → Models (it is stored only on this computer)."
)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
_QUANT = re.compile(r"[-._]((?:I?Q\d[A-Z0-9_]*)|BF16|F16|F32)(?=[-.])", re.IGNORECASE)
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


@dataclass(frozen=True)
class HubFile:
    path: str  # path inside the repo
    size: int
    sha256: str | None  # the LFS object id; None for small non-LFS files


@dataclass(frozen=True)
class GgufChoice:
    """One model a repo offers: a single GGUF file, or all the parts of a split one."""

    repo_id: str
    revision: str
    files: tuple[HubFile, ...]

    @property
    def name(self) -> str:
        return self.files[0].path

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    @property
    def quantization(self) -> str | None:
        return quantization_of(self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "file": self.name,
            "quantization": self.quantization,
            "size_bytes": self.size,
            "parts": len(self.files),
        }


def quantization_of(filename: str) -> str | None:
    match = _QUANT.search(filename.rsplit("/", 1)[-1])
    return match.group(1).upper() if match else None


def split_part(filename: str) -> tuple[int, int] | None:
    """``(part, total)`` for ``name-00001-of-00003.gguf``, else None."""
    match = _SPLIT.search(filename)
    return (int(match.group(1)), int(match.group(2))) if match else None


def check_repo_id(repo_id: str) -> str:
    """Raises: InvalidRequest: the text is not ``owner/name``."""
    cleaned = repo_id.strip()
    if not _REPO_ID.match(cleaned) or ".." in cleaned:
        raise InvalidRequest(
            f"{repo_id!r} is not a Hugging Face repo id; type it as owner/name, e.g. "
            "Qwen/Qwen2.5-1.5B-Instruct-GGUF."
        )
    return cleaned


def group_gguf(repo_id: str, revision: str, files: list[HubFile]) -> list[GgufChoice]:
    """GGUF files as choices; the parts of a split file become one choice, in order."""
    singles: list[GgufChoice] = []
    sets: dict[tuple[str, int], list[tuple[int, HubFile]]] = {}
    for file in files:
        if not file.path.lower().endswith(".gguf"):
            continue
        part = split_part(file.path)
        if part is None:
            singles.append(GgufChoice(repo_id, revision, (file,)))
        else:
            stem = _SPLIT.sub("", file.path)
            sets.setdefault((stem, part[1]), []).append((part[0], file))
    for (_stem, total), parts in sets.items():
        if len(parts) == total:  # an incomplete set on the Hub cannot be loaded: leave it out
            ordered = tuple(file for _, file in sorted(parts, key=lambda item: item[0]))
            singles.append(GgufChoice(repo_id, revision, ordered))
    return sorted(singles, key=lambda choice: choice.name)


def hub_endpoint() -> str:
    """The Hub's address: ``HF_ENDPOINT`` (a mirror, or the tests' fake Hub) or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
