"""Fonts the window needs beyond the desktop's default: a colour emoji font as the fallback for emoji.

Without one, emoji in messages, names and status texts render as empty boxes. ``scripts/run`` installs
Debian's ``fonts-noto-color-emoji``; ``add_emoji_font`` makes Qt use it for emoji whatever the default
font is (and loads the file itself where fontconfig does not list it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFontDatabase

log = logging.getLogger(__name__)

EMOJI_FAMILY = "Noto Color Emoji"
#: Where distributions put the font's file (Debian and Ubuntu, Fedora, Arch).
EMOJI_FILES = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/google-noto-color-emoji-fonts/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),
)


def add_emoji_font() -> str | None:
    """Make the colour emoji font the application's emoji fallback; its family, or None when it is not
    installed (emoji then show as the desktop's fonts can). Needs a QGuiApplication."""
    if EMOJI_FAMILY not in QFontDatabase.families():
        for path in EMOJI_FILES:
            if path.is_file() and QFontDatabase.addApplicationFont(str(path)) >= 0:
                break
    if EMOJI_FAMILY not in QFontDatabase.families():
        log.info("No %s font: emoji may show as boxes (Debian: apt install fonts-noto-color-emoji)", EMOJI_FAMILY)
        return None
    if EMOJI_FAMILY not in QFontDatabase.applicationEmojiFontFamilies():
        QFontDatabase.addApplicationEmojiFontFamily(EMOJI_FAMILY)
    return EMOJI_FAMILY
