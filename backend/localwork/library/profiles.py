"""The settings pane's logic: per-model profiles over app-wide defaults, previews, presets."""

from __future__ import annotations

import os
from typing import Any, Literal

import psutil
from pydantic import ValidationError

from localwork.engine.choice import remote_model
from localwork.engine.local.context_plan import physical_cores, plan_context
from localwork.engine.local.runtime import ModelRuntime
from localwork.errors import ModelLoadFailed, NotFound, SettingsError
from localwork.models.gguf import read_gguf
from localwork.models.registry import ModelRegistry
from localwork.settings import AppSettings, Profile, SettingsStore, field_errors, settings_error

Scope = Literal["defaults", "model"]
Overflow = Literal["trim_oldest", "stop"]


class ProfileService:
    def __init__(
        self, settings: SettingsStore, registry: ModelRegistry, runtime: ModelRuntime
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._runtime = runtime

    @staticmethod
    def _local_selection(current: AppSettings) -> str | None:
        """The installed model the pane is about when none is named: the selected one, or
        the last one used while a server's model is selected (its context is the server's)."""
        if remote_model(current, current.selected_model) is not None:
            return current.last_local_model
        return current.selected_model

    def describe(self, model_id: str | None) -> dict[str, Any]:
        """Everything the pane shows for one model (the selected one by default)."""
        current = self._settings.current
        model = self._registry.find(model_id or self._local_selection(current))
        profile = current.profile_for(model.id).model_dump()
        memory = psutil.virtual_memory()
        return {
            "model": model.to_dict(),
            "scope": "model" if model.id in current.model_profiles else "defaults",
            "profile": profile,
            "factory_defaults": Profile().model_dump(),
            "overflow": current.overflow,
            "presets": {name: p.model_dump() for name, p in sorted(current.presets.items())},
            "machine": {
                "logical_cores": os.cpu_count() or 1,
                "physical_cores": physical_cores(),
                "memory_total": memory.total,
                "memory_available": memory.available,
                "gpu_offload": self._runtime.status()["gpu_offload"],
            },
            "preview": self.preview(model.id, profile),
        }

    def preview(self, model_id: str | None, profile: dict[str, Any]) -> dict[str, Any]:
        """Validate a profile for a model and say what its context will cost."""
        try:
            checked = Profile.model_validate(profile)
        except ValidationError as error:
            return {"errors": field_errors(error), "plan": None}
        model = self._registry.find(model_id or self._local_selection(self._settings.current))
        info = read_gguf(model.path)
        try:
            plan = plan_context(checked.context, info, model.size_bytes)
        except SettingsError as error:
            return {"errors": error.fields, "plan": None}
        except ModelLoadFailed as error:
            return {"errors": {"context.n_ctx": error.message}, "plan": None}
        return {
            "errors": {},
            "plan": {
                **plan.worker_params(),
                "kv_bytes": plan.kv_bytes,
                "weights_bytes": model.size_bytes,
                "training_context": info.context_length,
                "memory_available": psutil.virtual_memory().available,
            },
        }

    def save(
        self, model_id: str | None, scope: Scope, profile: dict[str, Any], overflow: Overflow
    ) -> dict[str, Any]:
        """Save the pane and apply it: the model reloads when its context changed.

        Raises:
            SettingsError: some fields are invalid; ``fields`` says which and why.
        """
        current = self._settings.current
        model = self._registry.find(model_id or current.selected_model)
        errors = self.preview(model.id, profile)["errors"]
        if errors:
            raise SettingsError("Some settings need fixing before they can be saved.", errors)
        checked = Profile.model_validate(profile)
        profiles = {k: v for k, v in current.model_profiles.items() if k != model.id}
        changes: dict[str, Any] = {"overflow": overflow}
        if scope == "model":
            profiles[model.id] = checked
        else:
            changes.update(context=checked.context, generation=checked.generation)
        changes["model_profiles"] = profiles
        updated = self._store(current.model_copy(update=changes))
        reloading = self._reload_if_needed(current, updated)
        return {**self.describe(model.id), "reloading": reloading}

    def save_preset(self, name: str, profile: dict[str, Any]) -> dict[str, Any]:
        try:
            checked = Profile.model_validate(profile)
        except ValidationError as error:
            raise settings_error(error) from None
        current = self._settings.current
        self._store(current.model_copy(update={"presets": {**current.presets, name: checked}}))
        return {"presets": sorted(self._settings.current.presets)}

    def delete_preset(self, name: str) -> dict[str, Any]:
        current = self._settings.current
        if name not in current.presets:
            raise NotFound(f"There is no preset called {name!r}.")
        remaining = {k: v for k, v in current.presets.items() if k != name}
        self._store(current.model_copy(update={"presets": remaining}))
        return {"presets": sorted(remaining)}

    def _store(self, candidate: AppSettings) -> AppSettings:
        try:  # model_copy skips validation: validate the whole before writing it
            checked = AppSettings.model_validate(candidate.model_dump())
        except ValidationError as error:
            raise settings_error(error) from None
        return self._settings.replace(checked)

    def _reload_if_needed(self, before: AppSettings, after: AppSettings) -> bool:
        """Reload the model when its context changed (or it failed); True when it reloads."""
        if remote_model(after, after.selected_model) is not None:
            return False  # a server's model: its context is the server's
        status = self._runtime.status()
        loaded = (status["model"] or {}).get("id") or status["wanted"]
        model_id = self._registry.find(loaded or after.selected_model).id
        changed = before.profile_for(model_id).context != after.profile_for(model_id).context
        if changed or status["state"] == "error":
            self._runtime.load(after.selected_model)
            return True
        return False
