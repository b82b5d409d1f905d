"""Real GGUF files for tests: a copy of a model with metadata dropped or replaced (e.g. the
bundled SmolLM2 without its chat template, still loadable by llama.cpp), and header-only files
of any architecture for the metadata reader."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import BinaryIO

from localwork.models.gguf import _read_string, _read_value, _unpack

_UINT32, _INT32, _FLOAT32, _STRING, _ARRAY = 4, 5, 6, 8, 9
_DEFAULT_ALIGNMENT = 32


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _entry(key: str, value: str | int | list[str]) -> bytes:
    if isinstance(value, str):
        return _string(key) + struct.pack("<I", _STRING) + _string(value)
    if isinstance(value, int):
        return _string(key) + struct.pack("<II", _UINT32, value)
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


def _entry_floats(key: str, values: list[float]) -> bytes:
    data = struct.pack(f"<{len(values)}f", *values)
    return _string(key) + struct.pack("<IIQ", _ARRAY, _FLOAT32, len(values)) + data


def _entry_ints(key: str, values: list[int]) -> bytes:
    data = struct.pack(f"<{len(values)}i", *values)
    return _string(key) + struct.pack("<IIQ", _ARRAY, _INT32, len(values)) + data


def tiny_gemma3(
    target: Path, reply: str = "▁hello", ends: bool = True, n_embd: int = 64, n_layers: int = 2
) -> Path:
    """A real, loadable Gemma 3 GGUF of a few hundred KB without a chat template.

    Its weights are made so that every reply is the token ``reply`` and then its own <eos>
    (or, with ``ends`` False, ``reply`` again and again): it proves loading, prompting and
    stopping for a second architecture, not wording.
    """
    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
    byte_tokens = [f"<0x{value:02X}>" for value in range(256)]
    words = ["▁", "▁hello", "▁the", "a", "e", "o"]
    tokens = specials + byte_tokens + words
    types = [3, 3, 3, 2, 3, 3] + [6] * 256 + [1] * len(words)  # control, unknown, byte, normal
    n_vocab, n_head, head_dim, n_ff = len(tokens), 2, 32, 128
    metadata = [
        _entry("general.architecture", "gemma3"),
        _entry("general.name", "Tiny Gemma 3 test"),
        _entry("gemma3.context_length", 2048),
        _entry("gemma3.embedding_length", n_embd),
        _entry("gemma3.block_count", n_layers),
        _entry("gemma3.feed_forward_length", n_ff),
        _entry("gemma3.attention.head_count", n_head),
        _entry("gemma3.attention.head_count_kv", 1),
        _entry("gemma3.attention.key_length", head_dim),
        _entry("gemma3.attention.value_length", head_dim),
        _entry("gemma3.attention.sliding_window", 512),
        _string("gemma3.attention.layer_norm_rms_epsilon") + struct.pack("<If", _FLOAT32, 1e-6),
        _entry("tokenizer.ggml.model", "llama"),
        _entry("tokenizer.ggml.tokens", tokens),
        _entry_floats("tokenizer.ggml.scores", [0.0] * n_vocab),
        _entry_ints("tokenizer.ggml.token_type", types),
        _entry("tokenizer.ggml.bos_token_id", 2),
        _entry("tokenizer.ggml.eos_token_id", 1),
        _entry("tokenizer.ggml.unknown_token_id", 3),
        _entry("tokenizer.ggml.padding_token_id", 0),
    ]
    # Two directions, a (the first half) and b (the second): most rows are a; the reply's
    # token is 2a + b and <eos> 6b (or 0). After any other token the reply's scores highest,
    # after it <eos> does (attention and feed-forward add nothing).
    half = n_embd // 2
    embedding = [[0.5] * half + [0.0] * half for _ in range(n_vocab)]
    embedding[tokens.index(reply)] = [1.0] * half + [0.5] * half
    embedding[1] = [0.0] * half + [3.0 if ends else 0.0] * half
    tensors: list[tuple[str, list[int], list[float]]] = [
        ("token_embd.weight", [n_embd, n_vocab], [x for row in embedding for x in row]),
        ("output_norm.weight", [n_embd], [1.0] * n_embd),
    ]
    q_size, kv_size = n_head * head_dim, head_dim
    shapes = {
        "attn_norm": [n_embd],
        "attn_q": [n_embd, q_size],
        "attn_k": [n_embd, kv_size],
        "attn_v": [n_embd, kv_size],
        "attn_output": [q_size, n_embd],
        "attn_q_norm": [head_dim],
        "attn_k_norm": [head_dim],
        "post_attention_norm": [n_embd],
        "ffn_norm": [n_embd],
        "ffn_gate": [n_embd, n_ff],
        "ffn_up": [n_embd, n_ff],
        "ffn_down": [n_ff, n_embd],
        "post_ffw_norm": [n_embd],
    }
    for layer in range(n_layers):
        for name, shape in shapes.items():
            size = 1
            for dim in shape:
                size *= dim
            value = 1.0 if name.endswith("norm") else 0.0
            tensors.append((f"blk.{layer}.{name}.weight", shape, [value] * size))
    infos, blobs, offset = b"", b"", 0
    for name, shape, values in tensors:
        infos += _string(name) + struct.pack(f"<I{len(shape)}QIQ", len(shape), *shape, 0, offset)
        blob = struct.pack(f"<{len(values)}f", *values)
        blob += b"\0" * (_aligned(len(blob), _DEFAULT_ALIGNMENT) - len(blob))
        blobs += blob
        offset += len(blob)
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    header += b"".join(metadata) + infos
    header += b"\0" * (_aligned(len(header), _DEFAULT_ALIGNMENT) - len(header))
    target.write_bytes(header + blobs)
    return target
