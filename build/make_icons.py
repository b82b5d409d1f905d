"""Render the app icon from assets/icon.svg into every format the bundles need.

    python build/make_icons.py OUT_DIR

Writes localwork-hero-<size>.png (16 to 1024), localwork-hero.ico (Windows) and
localwork-hero.icns (macOS). Qt renders the SVG offscreen; Pillow writes ICO and ICNS.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "assets" / "icon.svg"
SIZES = (16, 32, 48, 64, 128, 256, 512, 1024)


def render_pngs(out: Path) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE} is not a valid SVG")
    written = []
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        target = out / f"localwork-hero-{size}.png"
        if not image.save(str(target)):
            raise SystemExit(f"could not write {target}")
        written.append(target)
    return written


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/out/icons")
    out.mkdir(parents=True, exist_ok=True)
    pngs = render_pngs(out)
    from PIL import Image

    largest = Image.open(pngs[-1])
    largest.save(out / "localwork-hero.ico", sizes=[(s, s) for s in SIZES if s <= 256])
    largest.save(out / "localwork-hero.icns")
    print(f"icons written to {out}")


if __name__ == "__main__":
    main()
