"""Files shipped with the app: the frontend."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # localwork/


def frontend_dir() -> Path:
    """The frontend folder: inside the installed package or bundle, else the source tree."""
    for candidate in (_PACKAGE_DIR / "frontend", _PACKAGE_DIR.parents[1] / "frontend"):
        if (candidate / "index.html").is_file():
            return candidate
    raise FileNotFoundError("The app's frontend files are missing; reinstall LocalWork Hero.")
