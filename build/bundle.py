"""Build the one-folder app for this platform: icons, PyInstaller, then a lean-up pass.

    python build/bundle.py [--dist DIR] [--work DIR]

Prints the bundle's path, its size with and without the embedded model, and the build time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_FOLDER = "LocalWorkHero"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def folder_size(folder: Path) -> int:
    """Bytes on disk, counting each hard-linked file once and links as nothing."""
    seen, total = set(), 0
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        stat = path.stat()
        if (stat.st_dev, stat.st_ino) not in seen:
            seen.add((stat.st_dev, stat.st_ino))
            total += stat.st_size
    return total


def link_duplicates(folder: Path) -> int:
    """Hard-link identical files (e.g. libllama.so, .so.0, .so.0.5.0); returns bytes saved."""
    by_content: dict[tuple[int, str], Path] = {}
    saved = 0
    for path in sorted(folder.rglob("*.so*")):
        if path.is_symlink() or not path.is_file():
            continue
        size = path.stat().st_size
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        original = by_content.setdefault((size, digest), path)
        if original != path and not os.path.samefile(original, path):
            path.unlink()
            os.link(original, path)
            saved += size
    return saved


def build(dist: Path, work: Path) -> Path:
    started = time.monotonic()
    icons = ROOT / "build" / "out" / "icons"
    subprocess.run([sys.executable, str(ROOT / "build" / "make_icons.py"), str(icons)], check=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            str(ROOT / "build" / "localwork.spec"),
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            "--noconfirm",
            "--log-level",
            "WARN",
        ],
        check=True,
    )
    app = dist / APP_FOLDER
    link_duplicates(app)
    if sys.platform == "linux":
        linux = ROOT / "build" / "linux"
        shutil.copy2(linux / "install-desktop-entry.sh", app / "install-desktop-entry.sh")
        shutil.copy2(icons / "localwork-hero-256.png", app / "localwork-hero.png")
    total = folder_size(app)
    model = next(app.rglob(MODEL_FILE)).stat().st_size
    print(f"bundle: {app}")
    print(f"size: {total / 2**20:.0f} MiB, {(total - model) / 2**20:.0f} MiB without the model")
    print(f"build time: {time.monotonic() - started:.0f} s")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "build" / "out" / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "work")
    args = parser.parse_args()
    build(args.dist, args.work)


if __name__ == "__main__":
    main()
