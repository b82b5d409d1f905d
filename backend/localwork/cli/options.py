"""What every sub-command's parser shares: a parser with a lazy epilog, ``--data-dir``,
``--grant``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from localwork.infra.paths import DATA_DIR_ENV

DATA_DIR_HELP = f"keep settings, models, conversations and logs in DIR (or set {DATA_DIR_ENV})"


class Parser(argparse.ArgumentParser):
    """A parser whose epilog may be built only when help is shown: the parser is built on
    every start (even the engine worker's), so what is costly to import waits until then."""

    def __init__(self, *args: Any, epilog_from: Callable[[], str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._epilog_from = epilog_from

    def format_help(self) -> str:
        if self._epilog_from is not None:
            self.epilog = self._epilog_from()
        return super().format_help()


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` after a sub-command too (the top-level one sets the default)."""
    parser.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=DATA_DIR_HELP)


def add_grant_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--grant",
        action="append",
        default=[],
        metavar="DIR[:ro|:rw]",
        help=f"{what} (read-only unless :rw); repeatable",
    )
