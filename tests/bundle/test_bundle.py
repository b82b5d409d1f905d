"""The double-clickable app: build it with PyInstaller, then launch what was built."""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.bundle

sys.path.insert(0, str(REPO_ROOT / "build"))
from bundle import MODEL_FILE, folder_size  # noqa: E402

# Regression guard for the trim (untrimmed: 536 MiB). Issue 7 asks for 350 MiB; Qt WebEngine's
# own link closure is 280 MiB of it, so the figure is reported in the README and the issue.
# 480 MiB measured once the MCP SDK came in (it imports cryptography, 14 MiB, at load).
MAX_MIB_WITHOUT_MODEL = 490


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    result = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "build" / "bundle.py"),
            "--dist",
            str(out / "dist"),
            "--work",
            str(out / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    print(result.stdout)
    return out / "dist" / "LocalWorkHero"


def self_test(executable: Path, data_dir: Path, display: str, user_prefix=(), env=None):
    return subprocess.run(
        [*user_prefix, str(executable), "--self-test", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, **(env or {}), "DISPLAY": display},
    )


def test_the_built_app_passes_its_self_test(bundle, virtual_display, tmp_path, artifacts_dir):
    result = self_test(bundle / "localwork-hero", tmp_path / "data", virtual_display)
    (artifacts_dir / "self-test.log").write_text(f"{result.stdout}\n{result.stderr}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("self-test passed:")


@pytest.fixture
def shared_folder():
    """A folder an ordinary user can reach (pytest's own temp root is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="lwh-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_it_starts_with_no_write_access_to_its_own_folder(bundle, virtual_display, shared_folder):
    # As root, permissions do not bind: run as an ordinary user against a read-only copy.
    user = pwd.getpwnam("nobody")
    app = shared_folder / "app"
    shutil.copytree(bundle, app, symlinks=True)
    for path in [app, *app.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~0o222)
    home = shared_folder / "home"
    home.mkdir()
    os.chown(home, user.pw_uid, user.pw_gid)
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    os.chown(runtime, user.pw_uid, user.pw_gid)
    result = self_test(
        app / "localwork-hero",
        home / "data",
        virtual_display,
        user_prefix=(
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
        ),
        # An ordinary user in a container without user namespaces has no Chromium sandbox.
        env={"HOME": str(home), "QTWEBENGINE_DISABLE_SANDBOX": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("self-test passed:")
    assert not any(path.stat().st_mode & 0o222 for path in app.rglob("*") if path.is_file())


def test_the_bundle_is_trimmed(bundle):
    internal = bundle / "_internal"
    qt = internal / "PySide6" / "Qt"
    assert not (qt / "qml").exists()
    assert not list(qt.rglob("qtwebengine_devtools_resources.pak"))
    assert [p.name for p in (qt / "translations" / "qtwebengine_locales").iterdir()] == [
        "en-US.pak"
    ]
    assert not list(internal.rglob("libgtk-3*"))
    assert (bundle / "install-desktop-entry.sh").is_file()
    assert (internal / "localwork" / "frontend" / "index.html").is_file()
    model = next(bundle.rglob(MODEL_FILE)).stat().st_size
    size_mib = (folder_size(bundle) - model) / 2**20
    print(f"bundle without the model: {size_mib:.0f} MiB")
    assert size_mib <= MAX_MIB_WITHOUT_MODEL
