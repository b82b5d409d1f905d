"""Local model management: import (copy or link), remove, split sets, disk use, fit badges,
selection with the won't-fit question, and the Hub token setting."""

from __future__ import annotations

import psutil
import pytest

from localwork.errors import InvalidRequest, ModelLoadFailed
from localwork.library.fit import describe_model, fit_for, memory_needed
from localwork.models.registry import BUNDLED_ID, ModelRegistry
from localwork.settings import ContextSettings
from localwork.transports.bridge import Bridge
from tests.support.fakehub import make_gguf


@pytest.fixture
def registry(paths):
    return ModelRegistry(paths.models_dir)


def local_ids(registry: ModelRegistry) -> list[str]:
    return [model.id for model in registry.installed() if model.source == "local"]


def test_import_copy_link_and_remove(registry, tmp_path):
    source = tmp_path / "mine-q4_0.gguf"
    source.write_bytes(make_gguf(40_000))
    copied = registry.import_file(source, "copy")
    assert copied.id == "local/imported/mine-q4_0.gguf" and not copied.linked
    assert registry.disk_used() == 40_000
    with pytest.raises(InvalidRequest, match="already imported"):
        registry.import_file(source, "link")
    assert registry.remove(copied.id) == 40_000
    assert local_ids(registry) == [] and source.exists()

    linked = registry.import_file(source, "link")
    assert linked.linked and registry.disk_used() == 0
    assert registry.remove(linked.id) == 0
    assert source.exists(), "deleting a linked model must leave the user's file alone"


def test_import_refuses_what_is_not_a_model(registry, tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"hello")
    with pytest.raises(ModelLoadFailed, match="not a usable GGUF") as refused:
        registry.import_file(junk, "copy")
    assert "cannot be imported" in refused.value.message
    assert "download it again" not in refused.value.message.lower()  # it was never downloaded
    with pytest.raises(InvalidRequest, match="not a file"):
        registry.import_file(tmp_path / "missing.gguf", "copy")
    part1 = tmp_path / "split-00001-of-00002.gguf"
    part1.write_bytes(make_gguf(1000))
    with pytest.raises(InvalidRequest, match="some parts are missing"):
        registry.import_file(part1, "copy")
    assert local_ids(registry) == []


def test_bundled_model_cannot_be_removed(registry):
    with pytest.raises(InvalidRequest, match="part of the app"):
        registry.remove(BUNDLED_ID)


def test_partial_files_and_incomplete_sets_are_never_listed(registry, paths):
    folder = paths.models_dir / "owner" / "repo"
    folder.mkdir(parents=True)
    (folder / "half.gguf.part").write_bytes(make_gguf(1000))
    (folder / "half.gguf.part.json").write_text("{}")
    (folder / "big-00001-of-00002.gguf").write_bytes(make_gguf(1000))
    assert local_ids(registry) == []
    (folder / "big-00002-of-00002.gguf").write_bytes(b"x" * 500)
    [model] = [m for m in registry.installed() if m.source == "local"]
    assert model.id == "local/owner/repo/big-00001-of-00002.gguf"
    assert model.size_bytes == 1500 and len(model.files) == 2
    registry.remove(model.id)
    assert not (paths.models_dir / "owner" / "repo" / "big-00002-of-00002.gguf").exists()
    assert (folder / "half.gguf.part").exists(), "another download's partial file stays"


def test_fit_thresholds():
    gib = 2**30
    assert fit_for(memory_needed(1 * gib), 8 * gib) == "fits"
    assert fit_for(memory_needed(5 * gib), 6 * gib) == "tight"
    assert fit_for(memory_needed(7 * gib), 6 * gib) == "wont_fit"
    assert memory_needed(gib, kv_bytes=gib) > 2 * gib


def test_overview_describes_the_bundled_model(app):
    overview = Bridge(app).models_overview()
    bundled = next(model for model in overview["models"] if model["id"] == BUNDLED_ID)
    assert bundled["architecture"] == "llama" and bundled["parameters"] == "135M"
    assert bundled["quantization"] == "Q4_1" and bundled["training_context"] == 8192
    assert bundled["fit"] == "fits" and bundled["disk_bytes"] == 0
    assert isinstance(bundled["supports_tools"], bool)
    assert overview["selected"] == BUNDLED_ID and overview["disk_used"] == 0
    # The bundled model is on the disk all the same, and the pane counts it (issue: "0 B").
    assert overview["bundled_bytes"] == bundled["size_bytes"] > 90_000_000


def test_selecting_a_model_that_wont_fit_asks_first(app, paths, monkeypatch):
    loads: list[str | None] = []
    monkeypatch.setattr(app.runtime, "load", loads.append)
    huge = paths.models_dir / "imported" / "huge-q4_k_m.gguf"
    huge.parent.mkdir(parents=True)
    huge.write_bytes(make_gguf(1000))
    with open(huge, "r+b") as handle:
        # Sparse: "weights" twice the machine's memory that take no real disk space.
        handle.truncate(2 * psutil.virtual_memory().total)
    model_id = "local/imported/huge-q4_k_m.gguf"
    bridge = Bridge(app)
    asked = bridge.dispatch("select_model", {"model_id": model_id})
    assert asked["data"]["needs_confirmation"] and "anyway" in asked["data"]["message"]
    assert app.settings.current.selected_model is None and loads == []
    chosen = bridge.dispatch("select_model", {"model_id": model_id, "confirmed": True})
    assert chosen["ok"] and app.settings.current.selected_model == model_id
    assert loads == [model_id]


def test_removing_the_selected_model_falls_back_to_the_bundled_one(app, tmp_path, monkeypatch):
    loads: list[str | None] = []
    monkeypatch.setattr(app.runtime, "load", loads.append)
    source = tmp_path / "mine-q4_0.gguf"
    source.write_bytes(make_gguf(1000))
    bridge = Bridge(app)
    imported = bridge.dispatch("import_model", {"path": str(source), "mode": "copy"})
    model_id = imported["data"]["model_id"]
    assert bridge.dispatch("select_model", {"model_id": model_id})["ok"]
    removed = bridge.dispatch("remove_model", {"model_id": model_id})
    assert removed["ok"] and removed["data"]["selected"] == BUNDLED_ID
    assert loads == [model_id, None]


def test_hub_token_is_stored_locally_and_never_sent_to_the_page(app):
    bridge = Bridge(app)
    assert bridge.dispatch("set_hub_token", {"token": " hf_secret "})["data"] == {
        "token": "settings"
    }
    assert app.settings.current.hf_token == "hf_secret"
    assert "hf_secret" not in str(bridge.dispatch("models_overview", {}))
    assert "hf_secret" not in str(bridge.dispatch("settings_pane", {}))
    bridge.dispatch("set_hub_token", {"token": None})
    assert app.settings.current.hf_token is None


def test_download_calls_validate_their_arguments(app):
    bridge = Bridge(app)
    bad_job = bridge.dispatch("pause_download", {"job_id": "../x"})
    assert bad_job["error"]["code"] == "invalid_request"
    unknown = bridge.dispatch("cancel_download", {"job_id": "0" * 12})
    assert unknown["error"]["code"] == "not_found"
    bad_repo = bridge.dispatch("repo_files", {"repo_id": "not a repo"})
    assert bad_repo["error"]["code"] == "invalid_request"
    assert "owner/name" in bad_repo["error"]["message"]
    no_dialog = bridge.dispatch("choose_model_file", {})
    assert no_dialog["error"]["code"] == "invalid_request"


def test_tool_support_comes_from_the_chat_template(registry, tmp_path):
    with_tools = tmp_path / "tools-q4_k_m.gguf"
    with_tools.write_bytes(
        make_gguf(5_000, chat_template="{% if tools %}{{ tools | tojson }}{% endif %}")
    )
    model = registry.import_file(with_tools, "copy")
    card = describe_model(model, ContextSettings(n_ctx=2048), available=8 * 2**30)
    assert card["supports_tools"] is True and card["n_ctx"] == 2048
    assert card["quantization"] == "Q4_K_M" and card["training_context"] == 4096
    # K and V, 4 layers, 4 heads of 64, f16: 4 KiB per token.
    assert card["kv_bytes"] == 2048 * 2 * 4 * 64 * 4 * 2
