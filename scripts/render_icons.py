#!/usr/bin/env python3
"""Render the application icon's PNG sizes from resources/icons/aggregator.svg with QtSvg.

    .venv/bin/python scripts/render_icons.py            # rewrites resources/icons/aggregator-<N>.png
    .venv/bin/python scripts/render_icons.py --sheet F  # also a contact sheet of every icon on light and dark

Desktops ask for these sizes in the hicolor theme; `aggregator desktop install` copies them there.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int, background: QColor | None = None) -> QImage:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(background if background is not None else QColor(Qt.GlobalColor.transparent))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def contact_sheet(target: Path) -> None:
    svgs = [ICONS / "aggregator.svg", *sorted((ROOT / "resources" / "presence").glob("*.svg")),
            *sorted((ROOT / "resources" / "protocols").glob("*.svg"))]
    cell, big = 40, 128
    width = big + 16 + cell * (len(svgs) - 1) + 16
    sheet = QImage(width, 2 * (big + 16), QImage.Format.Format_ARGB32)
    painter = QPainter(sheet)
    for row, bg in enumerate((QColor("#ffffff"), QColor("#121212"))):
        top = row * (big + 16)
        painter.fillRect(0, top, width, big + 16, bg)
        painter.drawImage(8, top + 8, render(svgs[0], big))
        for i, svg in enumerate(svgs[1:]):
            painter.drawImage(big + 16 + i * cell, top + 8, render(svg, 32))
            painter.drawImage(big + 16 + i * cell + 8, top + 56, render(svg, 16))
            painter.drawImage(big + 16 + i * cell, top + 80, render(svg, 24))
    painter.end()
    sheet.save(str(target))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", type=Path, help="also write a contact sheet of all icons to this PNG")
    args = parser.parse_args()
    app = QGuiApplication(sys.argv[:1])
    for size in SIZES:
        if not render(ICONS / "aggregator.svg", size).save(str(ICONS / f"aggregator-{size}.png")):
            raise SystemExit(f"render_icons: could not write the {size} px PNG")
    if args.sheet:
        contact_sheet(args.sheet)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
