"""Where the app keeps its data: platformdirs locations, or one folder given by the user."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "LOCALWORK_DATA_DIR"
_APP_DIR_NAME = "LocalWorkHero"


@dataclass(frozen=True)
class AppPaths:
    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "conversations.sqlite3"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def audit_file(self) -> Path:
        return self.data_dir / "audit.sqlite3"

    @property
    def backups_dir(self) -> Path:
        """Previous contents of files the tools changed or deleted (for undo)."""
        return self.data_dir / "backups"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "localwork.log"

    @property
    def engine_log_file(self) -> Path:
        return self.log_dir / "engine.log"

    def create(self) -> None:
        for folder in (self.data_dir, self.config_dir, self.log_dir, self.models_dir):
            folder.mkdir(parents=True, exist_ok=True)

    def owned_roots(self) -> tuple[Path, ...]:
        """Folders that belong to the app itself and that no file tool may ever reach."""
        return (self.data_dir, self.config_dir, self.log_dir)


def resolve_paths(data_dir: str | os.PathLike[str] | None = None) -> AppPaths:
    """Pick the app's folders: an explicit dir (flag or env var) keeps everything in one place."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    if chosen:
        root = Path(chosen).expanduser().resolve()
        return AppPaths(data_dir=root, config_dir=root / "config", log_dir=root / "logs")
    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(_APP_DIR_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(_APP_DIR_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(_APP_DIR_NAME, appauthor=False)),
    )
