"""Logging: everything to a rotating file in the log dir, warnings also to stderr."""

from __future__ import annotations

import logging
import logging.handlers

from localwork.paths import AppPaths, resolve_paths

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def setup_logging(paths: AppPaths) -> None:
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        paths.log_file, maxBytes=5 * 1024 * 1024, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("localwork-hero: %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.handlers[:] = [file_handler, console]


def open_data_dir(data_dir: str | None) -> AppPaths:
    """The data dir a command works in (``None``: the default one), created, logging to it."""
    paths = resolve_paths(data_dir)
    paths.create()
    setup_logging(paths)
    return paths
