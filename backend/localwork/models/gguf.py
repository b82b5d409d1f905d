"""A small reader for GGUF headers: the metadata needed to plan a context and show a model.

Reads only the key/value section at the start of the file (arrays such as the vocabulary are
skipped, their length kept), so it is fast and never loads weights.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from localwork.errors import UnreadableGguf
from localwork.models.prompt_formats import VOCAB_MARKERS, default_format, looks_instruct

_MAGIC = b"GGUF"
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_TOKENS_KEY = "tokenizer.ggml.tokens"
_MAX_STRING = 64 * 1024 * 1024  # a chat template is KBs; anything this big is corruption
_MAX_NESTING = 8  # arrays of arrays; real models nest one or two levels, never thousands

FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
}


@dataclass(frozen=True)
class ArrayInfo:
    """An array value that was skipped; only its element type and length are kept."""

    item_type: int
    length: int


@dataclass(frozen=True)
class GgufInfo:
    version: int
    tensor_count: int
    metadata: dict[str, Any] = field(repr=False)
    # The chat-format markers (``<|im_start|>``, ``<start_of_turn>``…) its vocabulary holds.
    vocab_markers: frozenset[str] = frozenset()

    def _arch_value(self, key: str) -> Any:
        return self.metadata.get(f"{self.architecture}.{key}")

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def name(self) -> str | None:
        value = self.metadata.get("general.name")
        return str(value) if value else None

    @property
    def context_length(self) -> int | None:
        value = self._arch_value("context_length")
        return int(value) if value else None

    @property
    def block_count(self) -> int:
        return int(self._arch_value("block_count") or 0)

    @property
    def embedding_length(self) -> int:
        return int(self._arch_value("embedding_length") or 0)

    @property
    def head_count(self) -> int:
        return int(self._arch_value("attention.head_count") or 0)

    @property
    def head_count_kv(self) -> int:
        return int(self._arch_value("attention.head_count_kv") or self.head_count)

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return str(value) if value else None

    @property
    def default_prompt_format(self) -> str:
        """How to prompt this model unless the user chose otherwise (see prompt_formats)."""
        return default_format(
            bool(self.chat_template),
            self.architecture,
            self.vocab_markers,
            looks_instruct(self.metadata),
        )

    @property
    def quantization(self) -> str | None:
        file_type = self.metadata.get("general.file_type")
        if file_type is None:
            return None
        return FILE_TYPES.get(int(file_type), f"type {file_type}")

    def kv_bytes_per_token(self, bytes_per_value: float = 2.0) -> float:
        """Memory one token of context takes in the KV cache (K and V, f16 by default)."""
        if not (self.head_count and self.embedding_length):
            return 0
        head_dim = self._arch_value("attention.key_length") or (
            self.embedding_length // self.head_count
        )
        return 2 * self.block_count * int(head_dim) * self.head_count_kv * bytes_per_value


def read_gguf(path: Path) -> GgufInfo:
    """Read a GGUF file's header.

    Raises:
        UnreadableGguf (a ModelLoadFailed): the file is missing, unreadable, not GGUF, or
            its header is corrupt.
    """
    try:
        with open(path, "rb") as handle:
            return _read_header(handle)
    except (OSError, struct.error, UnicodeDecodeError, ValueError) as error:
        raise UnreadableGguf(
            f"{path.name} is not a usable GGUF model file ({error}). "
            "Download it again or choose another model.",
            reason=str(error),
        ) from None


def _read_header(handle: BinaryIO) -> GgufInfo:
    if handle.read(4) != _MAGIC:
        raise ValueError("it does not start with the GGUF signature")
    (version,) = _unpack(handle, "<I")
    if version < 2:
        raise ValueError(f"GGUF version {version} is too old")
    tensor_count, kv_count = _unpack(handle, "<QQ")
    if kv_count > 100_000:
        raise ValueError(f"implausible metadata count {kv_count}")
    metadata: dict[str, Any] = {}
    markers: set[str] = set()
    for _ in range(kv_count):
        key = _read_string(handle)
        (value_type,) = _unpack(handle, "<I")
        metadata[key] = _read_value(handle, value_type, markers if key == _TOKENS_KEY else None)
    return GgufInfo(version, tensor_count, metadata, frozenset(markers))


def _unpack(handle: BinaryIO, fmt: str) -> tuple[Any, ...]:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise ValueError("the file ends inside its header (truncated download?)")
    return struct.unpack(fmt, data)


def _read_string(handle: BinaryIO) -> str:
    (length,) = _unpack(handle, "<Q")
    if length > _MAX_STRING:
        raise ValueError(f"implausible string length {length}")
    data = handle.read(length)
    if len(data) != length:
        raise ValueError("the file ends inside its header (truncated download?)")
    return data.decode("utf-8")


def _read_value(
    handle: BinaryIO, value_type: int, markers: set[str] | None = None, depth: int = 0
) -> Any:
    """One value; for the vocabulary, the chat markers among its strings go into ``markers``."""
    if value_type in _SCALARS:
        return _unpack(handle, _SCALARS[value_type])[0]
    if value_type == _STRING:
        return _read_string(handle)
    if value_type == _ARRAY:
        if depth >= _MAX_NESTING:
            raise ValueError(f"arrays nested more than {_MAX_NESTING} deep")
        item_type, length = _unpack(handle, "<IQ")
        if item_type in _SCALARS:
            handle.seek(struct.calcsize(_SCALARS[item_type]) * length, 1)
        else:
            for _ in range(length):
                item = _read_value(handle, item_type, depth=depth + 1)
                if markers is not None and item in VOCAB_MARKERS:
                    markers.add(item)
        return ArrayInfo(item_type=item_type, length=length)
    raise ValueError(f"unknown metadata type {value_type}")
