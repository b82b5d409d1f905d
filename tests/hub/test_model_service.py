"""The models pane's service against the fake Hub: catalog online and offline, the token
from settings, and a finished download becoming an installed, selectable model."""

from __future__ import annotations

import re
import socket

from localwork.models.catalog import CATALOG
from localwork.models.registry import BUNDLED_ID
from tests.hub.test_downloads import wait_for
from tests.support.fakehub import GOOD_TOKEN, make_gguf


def test_catalog_uses_hub_metadata_and_picks_the_preferred_quantization(hub, app):
    repo = CATALOG[1].repo_id
    hub.add(repo, "qwen2.5-1.5b-instruct-q8_0.gguf", make_gguf(30_000, seed=1))
    hub.add(repo, "qwen2.5-1.5b-instruct-q4_k_m.gguf", make_gguf(20_000, seed=2))
    hub.add(repo, "qwen2.5-1.5b-instruct-q2_k.gguf", make_gguf(10_000, seed=3))
    catalog = app.models.catalog()
    assert catalog["online"] and len(catalog["entries"]) == len(CATALOG)
    entry = catalog["entries"][1]
    assert entry["recommended"] and entry["file"] == "qwen2.5-1.5b-instruct-q4_k_m.gguf"
    assert entry["size_bytes"] == 20_000 and entry["fit"] == "fits"
    assert entry["installed"] is False
    assert catalog["entries"][0]["error"].startswith("Not available from")


def test_offline_the_catalog_says_so_and_installed_models_are_still_listed(app, monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    catalog = app.models.catalog()
    assert catalog["online"] is False and "Cannot reach" in catalog["message"]
    # Plain words, said once: no exception class names (ConnectError) for a user to decode.
    assert not re.search(r"[A-Z][a-z]+(Error|Exception)\b", catalog["message"])
    assert catalog["message"].lower().count("installed models") == 1
    assert [entry["title"] for entry in catalog["entries"]] == [e.title for e in CATALOG]
    assert BUNDLED_ID in [model["id"] for model in app.models.overview()["models"]]


def test_token_from_settings_opens_a_private_repo(hub, app):
    repo = "someone/Private-GGUF"
    hub.add(repo, "private-q4_k_m.gguf", make_gguf(5_000))
    hub.repos[repo].private = True
    app.models.set_token(GOOD_TOKEN)
    [choice] = app.models.repo_files(repo)
    job = app.models.downloads.start(repo, choice["file"])
    wait_for(lambda: app.models.downloads.list()[0]["state"] == "done")
    ids = [model["id"] for model in app.models.overview()["models"]]
    assert job["model_id"] in ids
    assert app.models.repo_files(repo)[0]["installed"] is True
