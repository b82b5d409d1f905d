"""Real folders, files and links in a temp dir: a grant, a secret outside it, app data."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from localwork.tools.audit import AuditLog
from localwork.tools.file_source import FileToolSource
from localwork.tools.runner import ToolRunner
from localwork.tools.sandbox.fs import Sandbox
from localwork.tools.sandbox.grants import Grant

SECRET = "TOP-SECRET-OUTSIDE-THE-GRANT"


@dataclass
class Layout:
    work: Path  # granted read-write
    docs: Path  # granted read-only
    outside: Path  # not granted; holds the secret
    app_data: Path  # the app's own folder, inside the grant on purpose

    @property
    def secret(self) -> Path:
        return self.outside / "secret.txt"


class FileRunner(ToolRunner):
    """A runner of the file tools alone, with what the tests look at: its audit log, its
    backups folder and its sandbox."""

    def __init__(self, sandbox: Sandbox, audit: AuditLog, backups: Path) -> None:
        super().__init__([FileToolSource(sandbox, backups)], audit)
        self.audit, self.backups, self.sandbox = audit, backups, sandbox


@pytest.fixture
def layout(tmp_path) -> Layout:
    work, docs, outside = tmp_path / "work", tmp_path / "docs", tmp_path / "outside"
    for folder in (work, docs, outside):
        folder.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (work / "notes.txt").write_text("line one\nline two\nline three\n")
    (work / "sub").mkdir()
    (work / "sub" / "deep.txt").write_text("deep")
    (docs / "readme.md").write_text("# Docs\n")
    app_data = work / "LocalWorkHeroData"
    app_data.mkdir()
    (app_data / "settings.json").write_text("{}")
    return Layout(work, docs, outside, app_data)


@pytest.fixture
def sandbox(layout) -> Sandbox:
    grants = [Grant.of(layout.work, writable=True), Grant.of(layout.docs, writable=False)]
    return Sandbox(grants, protected=[layout.app_data])


@pytest.fixture
def runner(sandbox, tmp_path):
    audit = AuditLog(tmp_path / "audit.sqlite3")
    yield FileRunner(sandbox, audit, tmp_path / "backups")
    audit.close()


def run(runner, name, **arguments):
    return runner.run(name, arguments, approval="approved")
