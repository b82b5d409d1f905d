"""A file of the user's that cannot be read is set aside, never lost: the one way to do it."""

from __future__ import annotations

import os
import time
from pathlib import Path


def set_aside(path: Path) -> Path:
    """Rename ``path`` to ``<name>.broken-<timestamp>`` beside it and return the new path; the
    app then starts without it, and the user's text stays in that file."""
    backup = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, backup)
    return backup
