"""The settings pane's service, without an engine: previews, saving, scopes, presets."""

import pytest

from localwork.models.registry import BUNDLED_ID
from localwork.settings import SettingsStore
from localwork.transports.bridge import Bridge


@pytest.fixture
def bridge(app):
    return Bridge(app)


def pane(bridge, **params):
    reply = bridge.dispatch("settings_pane", params)
    assert reply["ok"], reply
    return reply["data"]


def test_pane_describes_the_selected_model_and_its_cost(bridge):
    data = pane(bridge)
    assert data["model"]["id"] == BUNDLED_ID
    assert data["scope"] == "defaults"
    assert data["profile"]["context"]["n_ctx"] == "auto"
    plan = data["preview"]["plan"]
    assert plan["n_ctx"] == 8192 and plan["training_context"] == 8192
    assert plan["kv_bytes"] == 8192 * 2 * 30 * 64 * 3 * 2
    assert data["machine"]["physical_cores"] >= 1


def test_preview_puts_each_problem_next_to_its_field(bridge):
    profile = pane(bridge)["profile"]
    profile["context"].update(n_ctx=16384)
    profile["generation"].update(temperature=5)
    reply = bridge.dispatch("preview_profile", {"model_id": None, "profile": profile})
    errors = reply["data"]["errors"]
    assert list(errors) == ["generation.temperature"]  # field rules first
    profile["generation"]["temperature"] = 0.5
    reply = bridge.dispatch("preview_profile", {"model_id": None, "profile": profile})
    assert "training length (8192 tokens)" in reply["data"]["errors"]["context.n_ctx"]


def test_invalid_save_changes_nothing(bridge, app):
    profile = pane(bridge)["profile"]
    profile["context"].update(n_ctx=512, n_batch=1024)
    reply = bridge.dispatch(
        "save_profile",
        {"model_id": None, "scope": "defaults", "profile": profile, "overflow": "stop"},
    )
    assert reply["error"]["code"] == "settings_invalid"
    assert "context.n_batch" in reply["error"]["fields"]
    assert not app.paths.settings_file.exists()


def test_saving_for_one_model_keeps_the_defaults(bridge, app):
    profile = pane(bridge)["profile"]
    profile["context"]["n_ctx"] = 2048
    profile["generation"]["top_k"] = 12
    reply = bridge.dispatch(
        "save_profile",
        {"model_id": BUNDLED_ID, "scope": "model", "profile": profile, "overflow": "stop"},
    )
    assert reply["ok"], reply
    assert reply["data"]["scope"] == "model"
    saved = SettingsStore(app.paths.settings_file).current
    assert saved.model_profiles[BUNDLED_ID].context.n_ctx == 2048
    assert saved.context.n_ctx == "auto" and saved.overflow == "stop"

    # Back to the defaults: the model's own profile goes away.
    reply = bridge.dispatch(
        "save_profile",
        {"model_id": BUNDLED_ID, "scope": "defaults", "profile": profile, "overflow": "stop"},
    )
    saved = SettingsStore(app.paths.settings_file).current
    assert saved.model_profiles == {} and saved.context.n_ctx == 2048


def test_presets_are_saved_listed_and_deleted(bridge):
    profile = pane(bridge)["profile"]
    profile["generation"]["temperature"] = 0.1
    assert bridge.dispatch("save_preset", {"name": " Precise ", "profile": profile})["data"] == {
        "presets": ["Precise"]
    }
    assert pane(bridge)["presets"]["Precise"]["generation"]["temperature"] == 0.1
    assert bridge.dispatch("delete_preset", {"name": "Precise"})["data"] == {"presets": []}
    missing = bridge.dispatch("delete_preset", {"name": "Precise"})
    assert missing["error"]["code"] == "not_found"
    bad = bridge.dispatch("save_preset", {"name": "x", "profile": {"context": {"n_batch": 1}}})
    assert bad["error"]["code"] == "settings_invalid"


def test_saving_says_whether_the_model_reloads(bridge):
    def save(profile):
        params = {"model_id": None, "scope": "defaults", "profile": profile, "overflow": "stop"}
        reply = bridge.dispatch("save_profile", params)
        assert reply["ok"], reply
        return reply["data"]["reloading"]

    profile = pane(bridge)["profile"]
    profile["generation"]["temperature"] = 0.2
    assert save(profile) is False  # sampling applies to the next reply, no reload
    profile["context"]["n_ctx"] = 2048
    assert save(profile) is True
    assert save(profile) is False  # the same context again
