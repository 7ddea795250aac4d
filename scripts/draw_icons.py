#!/usr/bin/env python3
"""Write the project's own SVG icons into resources/ (app icon, presence icons, protocol badges).

Everything here is plain geometry drawn for this project. Colours are mid-tones (relative luminance
between 0.12 and 0.30), so each one keeps a contrast of at least 3:1 on a white and on a near-black
background; tests/ui/test_resources.py checks that on the rendered icons.
Run `scripts/render_icons.py` afterwards to refresh the PNG sizes of the application icon.
"""

from __future__ import annotations

import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RES = ROOT / "resources"

BLUE = "#1f7ac2"  # XMPP, and the back bubble of the app icon
TEAL = "#0d8a72"  # Matrix, and the front bubble
PURPLE = "#8a44b0"  # IRC, and the right bubble
GREEN = "#2a8a36"
AMBER = "#b87d00"
ORANGE = "#b35c00"
RED = "#d12f2f"
GREY = "#767676"
SLATE = "#6f6f80"


def _svg(size: int, body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">\n'
        f"  <title>{title}</title>\n{body}</svg>\n"
    )


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def bubble(x: float, y: float, w: float, h: float, r: float, *, tail_right: bool) -> str:
    """A speech bubble: a rounded rectangle with a tail leaving the bottom corner."""
    a = math.radians(35)
    if not tail_right:
        # The tail leaves the bottom edge, points down-left, and rejoins the bottom-left corner arc.
        cx, cy = x + r, y + h - r
        jx, jy = cx - r * math.sin(a), cy + r * math.cos(a)
        return (
            f"M{_f(x + r)},{_f(y)} H{_f(x + w - r)} A{_f(r)},{_f(r)} 0 0 1 {_f(x + w)},{_f(y + r)} "
            f"V{_f(y + h - r)} A{_f(r)},{_f(r)} 0 0 1 {_f(x + w - r)},{_f(y + h)} H{_f(x + r + 0.55 * r)} "
            f"L{_f(x + 0.1 * r)},{_f(y + h + 0.62 * r)} L{_f(jx)},{_f(jy)} "
            f"A{_f(r)},{_f(r)} 0 0 1 {_f(x)},{_f(y + h - r)} V{_f(y + r)} A{_f(r)},{_f(r)} 0 0 1 {_f(x + r)},{_f(y)} Z"
        )
    cx, cy = x + w - r, y + h - r
    jx, jy = cx + r * math.sin(a), cy + r * math.cos(a)
    return (
        f"M{_f(x + r)},{_f(y)} H{_f(x + w - r)} A{_f(r)},{_f(r)} 0 0 1 {_f(x + w)},{_f(y + r)} "
        f"V{_f(y + h - r)} A{_f(r)},{_f(r)} 0 0 1 {_f(jx)},{_f(jy)} "
        f"L{_f(x + w - 0.1 * r)},{_f(y + h + 0.62 * r)} L{_f(x + w - r - 0.55 * r)},{_f(y + h)} "
        f"H{_f(x + r)} A{_f(r)},{_f(r)} 0 0 1 {_f(x)},{_f(y + h - r)} V{_f(y + r)} "
        f"A{_f(r)},{_f(r)} 0 0 1 {_f(x + r)},{_f(y)} Z"
    )


def app_icon() -> str:
    stroke = 'stroke="#ffffff" stroke-width="8" stroke-linejoin="round"'
    dots = "".join(f'  <circle cx="{cx}" cy="166" r="10" fill="#ffffff"/>\n' for cx in (98, 128, 158))
    body = (
        f'  <path d="{bubble(14, 18, 148, 104, 42, tail_right=False)}" fill="{BLUE}" {stroke}/>\n'
        f'  <path d="{bubble(98, 40, 144, 100, 42, tail_right=True)}" fill="{PURPLE}" {stroke}/>\n'
        f'  <path d="{bubble(50, 112, 156, 104, 44, tail_right=False)}" fill="{TEAL}" {stroke}/>\n'
        f"{dots}"
    )
    return _svg(256, body, "Aggregator")


def _disc(color: str) -> str:
    return f'  <circle cx="16" cy="16" r="13" fill="{color}"/>\n'


GLYPH = 'fill="none" stroke="#ffffff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"'

PRESENCE = {
    "available": ("Available", _disc(GREEN) + f'  <path d="M10,16.5 L14.2,20.7 L22,12.2" {GLYPH}/>\n'),
    "chat": (
        "Free to chat",
        _disc(TEAL)
        + '  <path d="M11.5,10 H20.5 A2.5,2.5 0 0 1 23,12.5 V17.5 A2.5,2.5 0 0 1 20.5,20 H15 L11,23.5 V20 '
        'A2.5,2.5 0 0 1 9,17.5 V12.5 A2.5,2.5 0 0 1 11.5,10 Z" fill="#ffffff"/>\n',
    ),
    "away": ("Away", _disc(AMBER) + f'  <path d="M16,9.5 V16 L20.5,19" {GLYPH}/>\n'),
    "extended-away": (
        "Extended away",
        _disc(ORANGE)
        + '  <circle cx="15" cy="16.5" r="7" fill="#ffffff"/>\n'
        + f'  <circle cx="19" cy="13" r="6" fill="{ORANGE}"/>\n',
    ),
    "busy": ("Busy", _disc(RED) + '  <rect x="9" y="14" width="14" height="4" rx="2" fill="#ffffff"/>\n'),
    "invisible": (
        "Invisible",
        f'  <circle cx="16" cy="16" r="11" fill="none" stroke="{SLATE}" stroke-width="4" '
        'stroke-dasharray="5.76 3"/>\n'
        f'  <circle cx="16" cy="16" r="4" fill="{SLATE}"/>\n',
    ),
    "offline": ("Offline", f'  <circle cx="16" cy="16" r="11" fill="none" stroke="{GREY}" stroke-width="4"/>\n'),
    "unknown": (
        "Unknown",
        _disc(GREY)
        + f'  <path d="M12.6,12.8 A3.6,3.6 0 1 1 17.6,16 C16.5,16.6 16,17.3 16,18.6" {GLYPH}/>\n'
        + '  <circle cx="16" cy="23" r="1.9" fill="#ffffff"/>\n',
    ),
}

BADGE_STROKE = 'fill="none" stroke="#ffffff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"'


def _tile(color: str) -> str:
    return f'  <rect x="2" y="2" width="28" height="28" rx="7" fill="{color}"/>\n'


PROTOCOLS = {
    "xmpp": ("XMPP", _tile(BLUE) + f'  <path d="M10.5,10.5 L21.5,21.5 M21.5,10.5 L10.5,21.5" {BADGE_STROKE}/>\n'),
    "matrix": (
        "Matrix",
        _tile(TEAL)
        + f'  <path d="M12,9 H9 V23 H12 M20,9 H23 V23 H20" {BADGE_STROKE}/>\n'
        + '  <circle cx="16" cy="16" r="2.2" fill="#ffffff"/>\n',
    ),
    "irc": ("IRC", _tile(PURPLE) + f'  <path d="M14,8.5 L12,23.5 M20,8.5 L18,23.5 M9,13 H23.5 M8.5,19 H23" '
            f'{BADGE_STROKE}/>\n'),
}


def main() -> None:
    (RES / "icons").mkdir(parents=True, exist_ok=True)
    (RES / "icons" / "aggregator.svg").write_text(app_icon())
    for folder, table in (("presence", PRESENCE), ("protocols", PROTOCOLS)):
        (RES / folder).mkdir(exist_ok=True)
        for name, (title, body) in table.items():
            (RES / folder / f"{name}.svg").write_text(_svg(32, body, title))


if __name__ == "__main__":
    main()
