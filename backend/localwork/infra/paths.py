"""Where the app keeps its data: platformdirs locations, or one folder given by the user."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "LOCALWORK_DATA_DIR"
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
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
    def mcp_file(self) -> Path:
        """The user's MCP servers, in the ``mcpServers`` JSON other apps write."""
        return self.config_dir / "mcp.json"

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
        """Make the app's folders, private to the user (they hold file contents and a token)."""
        for folder in (self.data_dir, self.config_dir, self.log_dir, self.models_dir):
            folder.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
            _chmod_own(folder, PRIVATE_FOLDER)  # also folders an older version made 0755
        if self.settings_file.exists():  # written 0644 by older versions
            _chmod_own(self.settings_file, PRIVATE_FILE)

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


def _chmod_own(path: Path, mode: int) -> None:
    # A folder someone else owns (a shared --data-dir) keeps the mode its owner gave it.
    with contextlib.suppress(PermissionError):
        os.chmod(path, mode)


def make_private(file: Path) -> None:
    """Create ``file`` if missing, readable and writable by the user only."""
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
