"""The application's own files (icons, sounds, the desktop entry and AppStream metainfo).

Shipped inside the wheel and read through ``importlib.resources``, so they are found the same way in a
checkout, a venv, a pipx install or a zip. Qt-free: the window turns the bytes into icons itself.
Every icon here was drawn for this project (``scripts/draw_icons.py``; PNG sizes from
``scripts/render_icons.py``), the sound synthesised by ``scripts/make_sound.py``.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

APP_ID = "org.aggregator.Aggregator"
"""The reverse-DNS id: desktop entry file name, icon name, AppStream component id."""

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
PRESENCE_ICONS = ("available", "chat", "away", "extended-away", "busy", "invisible", "offline", "unknown")
PROTOCOL_BADGES = ("xmpp", "matrix", "irc")


def root() -> Traversable:
    return files(__name__)


def app_icon_svg() -> Traversable:
    return root() / "icons" / "aggregator.svg"


def app_icon_png(size: int) -> Traversable:
    if size not in ICON_SIZES:
        raise ValueError(f"no {size} px application icon; there are {', '.join(map(str, ICON_SIZES))}")
    return root() / "icons" / f"aggregator-{size}.png"


def presence_svg(name: str) -> Traversable:
    if name not in PRESENCE_ICONS:
        raise ValueError(f"no presence icon {name!r}")
    return root() / "presence" / f"{name}.svg"


def protocol_svg(name: str) -> Traversable:
    if name not in PROTOCOL_BADGES:
        raise ValueError(f"no protocol badge {name!r}")
    return root() / "protocols" / f"{name}.svg"


def notification_sound() -> Traversable:
    return root() / "sounds" / "message.wav"


def desktop_entry() -> Traversable:
    return root() / "desktop" / f"{APP_ID}.desktop"


def metainfo() -> Traversable:
    return root() / "desktop" / f"{APP_ID}.metainfo.xml"
