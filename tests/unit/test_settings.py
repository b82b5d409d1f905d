import json
import os

import pytest

from localwork.errors import SettingsError
from localwork.settings import AppSettings, ContextSettings, Profile, SettingsStore


def test_defaults_when_no_file(paths):
    store = SettingsStore(paths.settings_file)
    assert store.current == AppSettings()
    assert store.notice is None
    assert not paths.settings_file.exists()


def test_update_is_saved_and_reloaded(paths):
    store = SettingsStore(paths.settings_file)
    store.update({"generation": {"temperature": 0.2}, "context": {"n_ctx": 2048}})
    reloaded = SettingsStore(paths.settings_file).current
    assert reloaded.generation.temperature == 0.2
    assert reloaded.context.n_ctx == 2048
    assert reloaded.generation.top_p == AppSettings().generation.top_p  # untouched fields kept


def test_invalid_update_names_the_field_and_changes_nothing(paths):
    store = SettingsStore(paths.settings_file)
    store.update({"context": {"n_ctx": 1024}})
    before = paths.settings_file.read_bytes()
    with pytest.raises(
        SettingsError, match=r"batch size \(2048\) cannot be larger than the context \(1024\)"
    ):
        store.update({"context": {"n_batch": 2048}})
    assert paths.settings_file.read_bytes() == before
    assert store.current.context.n_batch == 512


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_ubatch": 1024, "n_batch": 512}, "micro-batch"),
        ({"n_threads": (os.cpu_count() or 1) + 1}, "cores"),
        ({"n_ctx": 64}, "between 128"),
        ({"n_batch": 0}, "greater than or equal"),
        ({"kv_cache_type": "q8_0"}, "needs flash attention"),
    ],
)
def test_context_rules(change, message):
    with pytest.raises(ValueError, match=message):
        ContextSettings(**change)


def test_unknown_keys_are_refused(paths):
    with pytest.raises(SettingsError, match="nonsense: is not a setting this version knows"):
        SettingsStore(paths.settings_file).update({"nonsense": 1})


@pytest.mark.parametrize(
    "content",
    [b"{not json", b'{"context": {"n_batch": "many"}}', b"\xff\xfe\x00garbage", b"[]"],
)
def test_broken_file_is_kept_as_backup_and_defaults_are_used(paths, content):
    paths.settings_file.write_bytes(content)
    store = SettingsStore(paths.settings_file)
    assert store.current == AppSettings()
    assert store.notice and "could not be read" in store.notice
    backups = list(paths.config_dir.glob("settings.json.broken-*"))
    assert len(backups) == 1
    assert backups[0].read_bytes() == content  # the user's file is intact
    assert not paths.settings_file.exists()


def test_writes_leave_no_temp_files(paths):
    store = SettingsStore(paths.settings_file)
    for temperature in (0.1, 0.2, 0.3):
        store.update({"generation": {"temperature": temperature}})
    assert [p.name for p in paths.config_dir.iterdir()] == ["settings.json"]
    assert json.loads(paths.settings_file.read_text())["generation"]["temperature"] == 0.3


def test_field_errors_point_at_the_field_to_change(paths):
    store = SettingsStore(paths.settings_file)
    with pytest.raises(SettingsError) as caught:
        store.update({"context": {"n_ctx": 256, "n_batch": 512}, "generation": {"top_p": 3}})
    assert caught.value.fields == {
        "context.n_batch": "batch size (512) cannot be larger than the context (256)",
        "generation.top_p": "must be 1 or less",
    }
    assert caught.value.to_dict()["fields"] == caught.value.fields


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"generation": {"temperature": 3}}, "generation.temperature", "must be 2 or less"),
        ({"generation": {"temperature": -0.5}}, "generation.temperature", "must be 0 or more"),
        ({"generation": {"temperature": None}}, "generation.temperature", "must be a number"),
        ({"generation": {"top_p": 0}}, "generation.top_p", "must be more than 0"),
        ({"generation": {"top_k": 2.5}}, "generation.top_k", "must be a whole number"),
        (
            {"context": {"kv_cache_type": "q2"}},
            "context.kv_cache_type",
            "must be 'f16', 'q8_0' or 'q4_0'",
        ),
    ],
)
def test_field_problems_are_in_plain_words(paths, change, field, problem):
    with pytest.raises(SettingsError) as caught:
        SettingsStore(paths.settings_file).update(change)
    assert caught.value.fields == {field: problem}
    assert "Input should" not in caught.value.message


def test_a_model_profile_overrides_the_defaults_for_that_model_only():
    custom = Profile.model_validate({"context": {"n_ctx": 1024}, "generation": {"top_k": 5}})
    settings = AppSettings(model_profiles={"local/a.gguf": custom})
    assert settings.profile_for("local/a.gguf").context.n_ctx == 1024
    assert settings.profile_for("local/b.gguf").context.n_ctx == "auto"
    assert settings.profile_for("local/b.gguf").generation == settings.generation
