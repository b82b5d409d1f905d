"""Real GGUF files for tests: a copy of a model with metadata dropped or replaced (e.g. the
bundled SmolLM2 without its chat template, still loadable by llama.cpp), and header-only files
of any architecture for the metadata reader."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import BinaryIO

from localwork.models.gguf import _read_string, _read_value, _unpack

_STRING, _ARRAY, _INT32 = 8, 9, 5
_DEFAULT_ALIGNMENT = 32


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _entry(key: str, value: str | int | list[str]) -> bytes:
    if isinstance(value, str):
        return _string(key) + struct.pack("<I", _STRING) + _string(value)
    if isinstance(value, int):
        return _string(key) + struct.pack("<Ii", _INT32, value)
    items = b"".join(_string(item) for item in value)
    return _string(key) + struct.pack("<IIQ", _ARRAY, _STRING, len(value)) + items


def _raw_entries(handle: BinaryIO, count: int) -> list[tuple[str, bytes]]:
    """Each metadata entry's key and its exact bytes (key, type and value)."""
    entries = []
    for _ in range(count):
        start = handle.tell()
        key = _read_string(handle)
        (value_type,) = _unpack(handle, "<I")
        _read_value(handle, value_type)
        end = handle.tell()
        handle.seek(start)
        entries.append((key, handle.read(end - start)))
    return entries


def _raw_tensor_infos(handle: BinaryIO, count: int) -> bytes:
    start = handle.tell()
    for _ in range(count):
        _read_string(handle)
        (dims,) = _unpack(handle, "<I")
        handle.seek(8 * dims + 4 + 8, 1)  # the dimensions, the type, the data offset
    end = handle.tell()
    handle.seek(start)
    return handle.read(end - start)


def _aligned(position: int, alignment: int) -> int:
    return (position + alignment - 1) // alignment * alignment


def edited_copy(
    source: Path,
    target: Path,
    drop: tuple[str, ...] = (),
    replace: dict[str, str | int] | None = None,
) -> Path:
    """Copy a GGUF model with metadata keys dropped or set; the tensors stay as they were."""
    replace = replace or {}
    with open(source, "rb") as handle:
        assert handle.read(4) == b"GGUF"
        version, tensor_count, kv_count = _unpack(handle, "<IQQ")
        entries = _raw_entries(handle, kv_count)
        tensors = _raw_tensor_infos(handle, tensor_count)
        alignment = _DEFAULT_ALIGNMENT
        for key, raw in entries:
            if key == "general.alignment":
                alignment = struct.unpack("<I", raw[-4:])[0]
        data_start = _aligned(handle.tell(), alignment)
        kept = [raw for key, raw in entries if key not in drop and key not in replace]
        kept += [_entry(key, value) for key, value in replace.items()]
        header = b"GGUF" + struct.pack("<IQQ", version, tensor_count, len(kept))
        header += b"".join(kept) + tensors
        header += b"\0" * (_aligned(len(header), alignment) - len(header))
        with open(target, "wb") as out:
            out.write(header)
            handle.seek(data_start)
            shutil.copyfileobj(handle, out, 1 << 20)
    return target


def header_only(
    target: Path,
    architecture: str,
    metadata: dict[str, str | int],
    tokens: list[str],
) -> Path:
    """A GGUF with metadata and a vocabulary but no tensors: enough for the header reader."""
    entries = [
        _entry("general.architecture", architecture),
        *(_entry(key, value) for key, value in metadata.items()),
        _entry("tokenizer.ggml.tokens", tokens),
    ]
    target.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(entries)) + b"".join(entries))
    return target
