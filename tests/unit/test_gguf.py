import struct

import pytest

from localwork.errors import ModelLoadFailed
from localwork.models.gguf import read_gguf
from localwork.models.registry import BUNDLED_ID, ModelRegistry, bundled_model_path
from localwork.transports.bridge import Bridge


def test_bundled_model_metadata():
    info = read_gguf(bundled_model_path())
    assert info.architecture == "llama"
    assert info.context_length == 8192
    assert info.quantization == "Q4_1"
    assert info.block_count == 30
    assert "im_start" in info.chat_template
    # 30 layers x (64-dim heads x 3 KV heads) x K and V x 2 bytes
    assert info.kv_bytes_per_token() == 2 * 30 * 64 * 3 * 2


@pytest.mark.parametrize(
    "content",
    [b"", b"GGML\x00\x00\x00\x00", b"GGUF\x03\x00\x00\x00\x01", b"GGUF" + b"\xff" * 64],
)
def test_corrupt_files_give_a_clear_error(tmp_path, content):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(content)
    with pytest.raises(ModelLoadFailed, match="not a usable GGUF model file"):
        read_gguf(broken)


def test_truncated_copy_of_a_real_model(tmp_path):
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(bundled_model_path().read_bytes()[:5000])
    with pytest.raises(ModelLoadFailed, match="truncated"):
        read_gguf(truncated)


def test_registry_lists_bundled_and_local_models(paths):
    (paths.models_dir / "team").mkdir()
    (paths.models_dir / "team" / "mine.gguf").write_bytes(b"GGUF")
    (paths.models_dir / "half.gguf.incomplete").write_bytes(b"GGUF")
    registry = ModelRegistry(paths.models_dir)
    ids = [model.id for model in registry.installed()]
    assert ids == [BUNDLED_ID, "local/team/mine.gguf"]
    assert registry.find(None).source == "bundled"
    assert registry.find(None).to_dict()["label"].endswith("(bundled, offline)")


def test_deeply_nested_arrays_are_refused_not_an_internal_error(tmp_path, app):
    """Issue 16 #6: 5,000 arrays inside each other blew the stack and gave ``internal``."""
    nested = tmp_path / "nested.gguf"
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1) + b"a"
    arrays = struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * 5000 + struct.pack("<IQ", 4, 0)
    nested.write_bytes(header + arrays)
    with pytest.raises(ModelLoadFailed, match="nested more than 8 deep"):
        read_gguf(nested)
    reply = Bridge(app).dispatch("import_model", {"path": str(nested), "mode": "copy"})
    assert reply["error"]["code"] == "model_load_failed"
    assert "nested" in reply["error"]["message"]
