"""Native dialogs for ``AppOptions.pickers`` that answer as a test says (no window)."""

from __future__ import annotations

from collections.abc import Callable


def _cancelled(*_args: object) -> str | None:
    return None


class ScriptedDialogs:
    """Each dialog returns what its function returns; a test may swap one between calls."""

    def __init__(
        self,
        folder: Callable[[], str | None] = _cancelled,
        gguf_file: Callable[[], str | None] = _cancelled,
        save: Callable[[str], str | None] = _cancelled,
    ) -> None:
        self.pick_folder = folder
        self.pick_gguf = gguf_file
        self.save = save

    def folder(self) -> str | None:
        return self.pick_folder()

    def gguf_file(self) -> str | None:
        return self.pick_gguf()

    def save_path(self, suggested_name: str) -> str | None:
        return self.save(suggested_name)
