"""Logging: everything to a rotating file in the log dir, warnings also to stderr."""

from __future__ import annotations

import logging
import logging.handlers
import os

from localwork.infra.paths import PRIVATE_FILE, AppPaths, resolve_paths

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


class _PrivateFileHandler(logging.handlers.RotatingFileHandler):
    """Log files (the current one and each after rotation) readable by the user only."""

    def _open(self):
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
        fd = os.open(self.baseFilename, flags, PRIVATE_FILE)
        os.fchmod(fd, PRIVATE_FILE)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


class _BriefFormatter(logging.Formatter):
    """For stderr: the message without its traceback, which only the log file keeps."""

    def format(self, record: logging.LogRecord) -> str:
        if not (record.exc_info or record.stack_info):
            return super().format(record)
        brief = logging.makeLogRecord(record.__dict__)
        brief.exc_info = brief.exc_text = brief.stack_info = None
        return f"{super().format(brief)} (details in the log)"


def setup_logging(paths: AppPaths) -> None:
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    file_handler = _PrivateFileHandler(
        paths.log_file, maxBytes=5 * 1024 * 1024, backupCount=3, encoding="utf-8"
    )
    file_handler.setFormatter(logging.Formatter(_FORMAT))
    console = logging.StreamHandler()
    console.setLevel(logging.WARNING)
    console.setFormatter(_BriefFormatter("localwork-hero: %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.handlers[:] = [file_handler, console]


def open_data_dir(data_dir: str | None) -> AppPaths:
    """The data dir a command works in (``None``: the default one), created, logging to it."""
    paths = resolve_paths(data_dir)
    paths.create()
    setup_logging(paths)
    return paths
