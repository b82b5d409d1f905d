"""The models pane's logic: installed models with fit badges, the catalog, downloads, import,
delete, selection and the Hub token. Shared by the bridge; the CLI uses the parts directly."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from localwork.engine.choice import SelectedEngine
from localwork.engine.local.runtime import ModelRuntime
from localwork.errors import (
    HubAuthRequired,
    HubNotFound,
    HubOffline,
    InvalidRequest,
    LocalWorkError,
)
from localwork.events import EventBus
from localwork.library.fit import FIT_LABELS, describe_model, fit_for, memory_needed
from localwork.models.catalog import CATALOG, CatalogEntry
from localwork.models.downloads import DownloadManager, model_id_for
from localwork.models.gguf import read_gguf
from localwork.models.hubfiles import GgufChoice, hub_endpoint
from localwork.models.prompt_formats import PromptFormatName, check_choice

if TYPE_CHECKING:
    from localwork.models.hub import HubClient
from localwork.models.fetch import TransferPolicy
from localwork.models.registry import BUNDLED_ID, ImportMode, ModelRegistry
from localwork.settings import SettingsStore

log = logging.getLogger(__name__)

FilePicker = Callable[[], str | None]
_CATALOG_WORKERS = 4


def pick_for_catalog(entry: CatalogEntry, choices: list[GgufChoice]) -> GgufChoice | None:
    """The catalog's preferred quantization, else the smallest file the repo offers."""
    preferred = [c for c in choices if (c.quantization or "") == entry.quantization.upper()]
    pool = preferred or choices
    return min(pool, key=lambda choice: choice.size) if pool else None


class ModelService:
    def __init__(
        self,
        models_dir: Path,
        settings: SettingsStore,
        registry: ModelRegistry,
        runtime: ModelRuntime,
        engine: SelectedEngine,
        events: EventBus,
        policy: TransferPolicy | None = None,
        picker: FilePicker | None = None,  # the native file dialog, in the desktop window
    ) -> None:
        self._models_dir = models_dir
        self._settings = settings
        self._registry = registry
        self._runtime = runtime
        self._engine = engine
        self.downloads = DownloadManager(models_dir, events, self.hub, policy)
        self._picker = picker

    def hub(self) -> HubClient:
        """A client with the token from settings, else ``HF_TOKEN``."""
        from localwork.models.hub import HubClient  # imported on first use: see hub.py

        return HubClient(token=self._settings.current.hf_token)

    # --- what the pane shows ------------------------------------------------------------------
    def overview(self) -> dict[str, Any]:
        current = self._settings.current
        available = psutil.virtual_memory().available
        installed = self._registry.installed()
        models = [
            describe_model(
                model,
                current.profile_for(model.id).context,
                available,
                current.prompt_formats.get(model.id),
            )
            for model in installed
        ]
        self._models_dir.mkdir(parents=True, exist_ok=True)
        return {
            "models": models,
            "selected": current.selected_model or BUNDLED_ID,
            "disk_used": self._registry.disk_used(),
            # Part of the app, not of the models folder: counted apart, as it cannot be freed.
            "bundled_bytes": sum(m.size_bytes for m in installed if m.source == "bundled"),
            "disk_free": shutil.disk_usage(self._models_dir).free,
            "memory_available": available,
            "models_dir": str(self._models_dir),
            "downloads": self.downloads.list(),
            "token": "settings"
            if current.hf_token
            else ("env" if os.environ.get("HF_TOKEN") else None),
            "endpoint": hub_endpoint(),
        }

    def catalog(self) -> dict[str, Any]:
        """The curated list with sizes from the Hub; offline, it says so and lists names only."""
        hub = self.hub()
        installed = {model.id for model in self._registry.installed()}
        available = psutil.virtual_memory().available

        def fetch(entry: CatalogEntry) -> list[GgufChoice] | LocalWorkError:
            try:
                return hub.gguf_choices(entry.repo_id)
            except LocalWorkError as error:
                return error

        # In parallel: seven metadata round trips one after another feel slow in the pane.
        with ThreadPoolExecutor(max_workers=_CATALOG_WORKERS) as pool:
            answers = list(pool.map(fetch, CATALOG))
        offline = next((a.message for a in answers if isinstance(a, HubOffline)), None)
        entries = []
        for entry, answer in zip(CATALOG, answers, strict=True):
            item: dict[str, Any] = {
                "repo_id": entry.repo_id,
                "title": entry.title,
                "note": entry.note,
                "recommended": entry.recommended,
            }
            if isinstance(answer, HubAuthRequired):
                item["error"] = "Gated: needs an access token (see below)."
            elif isinstance(answer, HubNotFound):
                item["error"] = f"Not available from {hub.endpoint}."
            elif isinstance(answer, LocalWorkError) and not isinstance(answer, HubOffline):
                item["error"] = answer.message
            elif not isinstance(answer, LocalWorkError):
                choice = pick_for_catalog(entry, answer)
                if choice is not None:
                    item.update(self._choice_dict(choice, installed, available))
            entries.append(item)
        return {"online": offline is None, "message": offline, "entries": entries}

    def repo_files(self, repo_id: str) -> list[dict[str, Any]]:
        """Raises: HubNotFound, HubAuthRequired, HubOffline, InvalidRequest."""
        installed = {model.id for model in self._registry.installed()}
        available = psutil.virtual_memory().available
        return [
            self._choice_dict(choice, installed, available)
            for choice in self.hub().gguf_choices(repo_id)
        ]

    @staticmethod
    def _choice_dict(choice: GgufChoice, installed: set[str], available: int) -> dict[str, Any]:
        # Before download only the size is known: the badge counts the weights and overhead.
        fit = fit_for(memory_needed(choice.size), available)
        model_id = model_id_for(choice.repo_id, choice.name)
        return {
            **choice.to_dict(),
            "model_id": model_id,
            "installed": model_id in installed,
            "fit": fit,
            "fit_label": FIT_LABELS[fit],
        }

    # --- changes ------------------------------------------------------------------------------
    def import_model(self, path: str, mode: ImportMode) -> dict[str, Any]:
        model = self._registry.import_file(Path(path), mode)
        return {"model_id": model.id, **self.overview()}

    def choose_file(self) -> str | None:
        if self._picker is None:
            raise InvalidRequest("There is no file dialog in the browser: type the file's path.")
        return self._picker()

    def remove(self, model_id: str) -> dict[str, Any]:
        """Delete a model; if it was selected, the bundled model takes its place."""
        was_selected = (self._settings.current.selected_model or BUNDLED_ID) == model_id
        freed = self._registry.remove(model_id)
        current = self._settings.current
        # replace, not update: update merges dicts, so the removed model's key would stay.
        patch: dict[str, Any] = {
            "prompt_formats": {k: v for k, v in current.prompt_formats.items() if k != model_id}
        }
        if was_selected:
            patch["selected_model"] = None
        if current.last_local_model == model_id:
            patch["last_local_model"] = None
        self._settings.replace(current.model_copy(update=patch))
        if was_selected:
            self._engine.apply_selection()
        return {"freed": freed, **self.overview()}

    def select(self, model_id: str, confirmed: bool) -> dict[str, Any]:
        """Persist the choice and load it; a model that won't fit is loaded only once confirmed."""
        model = self._registry.find(model_id)
        context = self._settings.current.profile_for(model.id).context
        available = psutil.virtual_memory().available
        card = describe_model(model, context, available)
        if card["fit"] == "wont_fit" and not confirmed:
            needed = card.get("memory_needed")
            need = f"about {needed / 2**30:.1f} GiB of memory" if needed else "more memory"
            return {
                "needs_confirmation": True,
                "message": (
                    f"{model.name} needs {need}, and only {available / 2**30:.1f} GiB is free. "
                    "Loading it may fail or make the computer slow. Load it anyway?"
                ),
            }
        chosen = None if model.id == BUNDLED_ID else model.id
        self._settings.update({"selected_model": chosen, "last_local_model": chosen})
        self._engine.apply_selection()
        return {"needs_confirmation": False, "selected": model.id}

    def set_prompt_format(self, model_id: str, prompt_format: PromptFormatName) -> dict[str, Any]:
        """Remember how to prompt this model and use it at once if the model is loaded.

        Raises:
            ModelNotFound: no such model. InvalidRequest: "model" for a model without one.
        """
        model = self._registry.find(model_id)
        check_choice(prompt_format, bool(read_gguf(model.path).chat_template), model.name)
        formats = {**self._settings.current.prompt_formats, model.id: prompt_format}
        self._settings.update({"prompt_formats": formats})
        self._runtime.use_prompt_format(model.id)
        return self.overview()

    def set_token(self, token: str | None) -> dict[str, Any]:
        """Store the Hub token in the local settings file (None forgets it)."""
        cleaned = (token or "").strip() or None
        self._settings.update({"hf_token": cleaned})
        return {"token": "settings" if cleaned else None}

    def close(self) -> None:
        self.downloads.close()
