"""The app's own icons and sound: shipped through importlib.resources, each icon legible on a light and a
dark background, the PNG sizes rendered from the SVG, the presence icons what the window shows."""

from __future__ import annotations

import collections
import wave
from io import BytesIO

import pytest
from PySide6.QtCore import QByteArray, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
from pytestqt.qtbot import QtBot

import resources
from aggregator.api import PresenceKind
from ui.icons import PRESENCE_COLORS, PRESENCE_FILES, app_icon, presence_icon, protocol_icon

LIGHT = QColor("#ffffff")
DARK = QColor("#121212")
SVGS = [
    ("app", resources.app_icon_svg().read_bytes()),
    *((f"presence/{n}", resources.presence_svg(n).read_bytes()) for n in resources.PRESENCE_ICONS),
    *((f"protocol/{n}", resources.protocol_svg(n).read_bytes()) for n in resources.PROTOCOL_BADGES),
]


def _luminance(c: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(a: QColor, b: QColor) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def render(svg: bytes, size: int, background: QColor) -> QImage:
    renderer = QSvgRenderer(QByteArray(svg))
    assert renderer.isValid()
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(background)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def dominant_foreground(image: QImage, background: QColor) -> tuple[QColor, float]:
    """The most common colour that is not the background, and the share of pixels it covers."""
    counts: collections.Counter[int] = collections.Counter()
    bg = background.rgb()
    for y in range(image.height()):
        for x in range(image.width()):
            rgb = image.pixel(x, y)
            if rgb != bg:
                counts[rgb] += 1
    rgb, n = counts.most_common(1)[0]
    return QColor.fromRgb(rgb), n / (image.width() * image.height())


@pytest.mark.parametrize(("name", "svg"), SVGS, ids=[n for n, _ in SVGS])
@pytest.mark.parametrize("background", [LIGHT, DARK], ids=["light", "dark"])
def test_icon_stands_out_on_light_and_dark(name: str, svg: bytes, background: QColor, qapp: object) -> None:
    image = render(svg, 64, background)
    color, share = dominant_foreground(image, background)
    assert share > 0.1, f"{name}: almost nothing visible"
    assert contrast(color, background) >= 3.0, (
        f"{name}: its main colour {color.name()} has contrast {contrast(color, background):.2f} on "
        f"{background.name()} (WCAG needs 3:1 for graphics)"
    )


def test_app_icon_pngs_are_the_svg_at_every_size(qapp: object) -> None:
    svg = resources.app_icon_svg().read_bytes()
    for size in resources.ICON_SIZES:
        png = QImage.fromData(resources.app_icon_png(size).read_bytes())
        assert (png.width(), png.height()) == (size, size)
        assert png.hasAlphaChannel()
        # The PNG is the SVG rendered at that size (scripts/render_icons.py), not a stale drawing.
        fresh = render(svg, size, LIGHT)
        flat = QImage(size, size, QImage.Format.Format_RGB32)
        flat.fill(LIGHT)
        painter = QPainter(flat)
        painter.drawImage(0, 0, png)
        painter.end()
        differing = sum(
            1 for y in range(size) for x in range(size)
            if abs(QColor(flat.pixel(x, y)).lightness() - QColor(fresh.pixel(x, y)).lightness()) > 24
        )
        assert differing <= size * size * 0.02, f"{size} px PNG differs from the SVG: run scripts/render_icons.py"


def test_the_window_shows_the_shipped_presence_icons(qtbot: QtBot) -> None:
    for kind in PresenceKind:
        shown = presence_icon(kind).pixmap(32, 32).toImage().convertToFormat(QImage.Format.Format_ARGB32)
        expected = QImage(32, 32, QImage.Format.Format_ARGB32)
        expected.fill(QColor(0, 0, 0, 0))
        painter = QPainter(expected)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        QSvgRenderer(QByteArray(resources.presence_svg(PRESENCE_FILES[kind]).read_bytes())).render(
            painter, QRectF(0, 0, 32, 32)
        )
        painter.end()
        assert shown == expected, kind
    assert not app_icon().isNull() and 512 in [s.width() for s in app_icon().availableSizes()]
    assert all(not protocol_icon(p).isNull() for p in resources.PROTOCOL_BADGES)


def test_the_notification_sound_is_short_and_soft() -> None:
    with wave.open(BytesIO(resources.notification_sound().read_bytes())) as sound:
        frames = sound.readframes(sound.getnframes())
        seconds = sound.getnframes() / sound.getframerate()
        assert sound.getsampwidth() == 2 and sound.getnchannels() == 1
    samples = memoryview(frames).cast("h")
    assert 0.2 <= seconds <= 1.0
    peak = max(abs(s) for s in samples) / 32768
    assert 0.05 < peak <= 0.3  # audible, never startling
    assert abs(samples[-1]) < 200  # fades out: no click at the end


def test_presence_colours_elsewhere_match_the_icons(qapp: object) -> None:
    """The account strip's dots and the tray use PRESENCE_COLORS: the same colour as the icons."""
    for kind in PresenceKind:
        svg = resources.presence_svg(PRESENCE_FILES[kind]).read_bytes()
        color, _share = dominant_foreground(render(svg, 64, LIGHT), LIGHT)
        assert color.name() == PRESENCE_COLORS[kind], kind
