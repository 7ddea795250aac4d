"""Every colour the window draws text in, for the light and the dark theme, in one place.

Qt-free values (``#rrggbb`` strings): ``ui.theme`` builds the Qt palettes from them and the views read the
message, link, highlight and nick colours through ``current()``. ``tests/ui/test_theme_contrast.py``
checks each text colour against the backgrounds it is drawn on (WCAG contrast ratio 4.5 or more).
"""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass


class ThemeMode(enum.StrEnum):
    """The user's choice in Preferences (stored as this value)."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


class Scheme(enum.StrEnum):
    """The colours in force."""

    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True, slots=True)
class ThemeColors:
    scheme: Scheme
    # the palette
    window: str
    window_text: str
    base: str  # lists, the conversation view, text fields
    alternate_base: str
    text: str
    button: str
    button_text: str
    highlight: str  # the selected row
    highlighted_text: str
    placeholder: str  # dimmed text: placeholders, a person's status line, empty states
    tooltip_base: str
    tooltip_text: str
    link: str
    link_visited: str
    # the conversation view
    own: str  # our name
    their: str  # their name
    dim: str  # times, delivery marks, status lines, "[on account]"
    error: str  # "failed", a dialog's error line
    separator: str  # "— Today —"
    search_hit: str  # background of the message a search opened
    mention: str  # background of a room message that mentions us
    marked_text: str  # body text on ``search_hit`` / ``mention``
    nicks: tuple[str, ...]  # a room member's name colour, chosen by the name


LIGHT = ThemeColors(
    scheme=Scheme.LIGHT,
    window="#efefef",
    window_text="#1a1a1a",
    base="#ffffff",
    alternate_base="#f4f4f4",
    text="#1a1a1a",
    button="#e4e4e4",
    button_text="#1a1a1a",
    highlight="#2a62b8",
    highlighted_text="#ffffff",
    placeholder="#5f5f5f",
    tooltip_base="#ffffdc",
    tooltip_text="#1a1a1a",
    link="#0b57c2",
    link_visited="#6a2fb0",
    own="#1f5fbf",
    their="#a23b00",
    dim="#5f5f5f",
    error="#b00020",
    separator="#5f5f5f",
    search_hit="#fff0a0",
    mention="#ffe1d2",
    marked_text="#000000",
    nicks=("#a23b00", "#1f6f2a", "#7a2fa8", "#0a6a80", "#b0203c", "#5a5a00", "#2b4fa8", "#8a4a00"),
)

DARK = ThemeColors(
    scheme=Scheme.DARK,
    window="#242428",
    window_text="#e6e6e6",
    base="#1a1a1e",
    alternate_base="#222226",
    text="#e6e6e6",
    button="#34343a",
    button_text="#e6e6e6",
    highlight="#2f5fa8",
    highlighted_text="#ffffff",
    placeholder="#a8a8b0",
    tooltip_base="#3a3a40",
    tooltip_text="#f0f0f0",
    link="#8ab8ff",
    link_visited="#c9a2ff",
    own="#8ab4ff",
    their="#ffa46e",
    dim="#b0b0b8",
    error="#ff8080",
    separator="#b0b0b8",
    search_hit="#3d3400",
    mention="#4d2a1e",
    marked_text="#ffffff",
    nicks=("#ffa46e", "#7fd48a", "#d3a6ff", "#6fd3e6", "#ff8fa3", "#e0d36a", "#9fb8ff", "#f0b070"),
)

THEMES = {Scheme.LIGHT: LIGHT, Scheme.DARK: DARK}

_current: list[ThemeColors] = [LIGHT]


def current() -> ThemeColors:
    """The colours in force (light until ``ui.theme`` applies a theme)."""
    return _current[0]


def set_current(scheme: Scheme) -> ThemeColors:
    _current[0] = THEMES[scheme]
    return _current[0]


def resolve(mode: ThemeMode, system_dark: bool | None) -> Scheme:
    """The scheme for the user's choice; ``system_dark`` is the desktop's hint (None: it gives none)."""
    if mode is ThemeMode.LIGHT:
        return Scheme.LIGHT
    if mode is ThemeMode.DARK:
        return Scheme.DARK
    return Scheme.DARK if system_dark else Scheme.LIGHT


def nick_color(name: str, colors: ThemeColors | None = None) -> str:
    """The same colour for the same name in every session (a stable hash, not Python's salted one)."""
    palette = (colors or current()).nicks
    return palette[zlib.crc32(name.casefold().encode("utf-8")) % len(palette)]
