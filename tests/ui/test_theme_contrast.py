"""Every text colour of both themes is readable on the backgrounds it is drawn on (WCAG 2 contrast ratio,
computed here: 4.5:1 for text, 3:1 for the presence icons), and the checker itself catches a bad colour."""

from __future__ import annotations

import re

import pytest

import resources
from ui.icons import PRESENCE_COLORS, PRESENCE_FILES
from ui.theme_colors import DARK, LIGHT, ThemeColors

TEXT_MIN = 4.5
GRAPHIC_MIN = 3.0


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: str) -> float:
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", color), color
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_pairs(t: ThemeColors) -> list[tuple[str, str, str, str]]:
    """(what, colour, on what, background) for every text the theme draws."""
    pairs = [
        ("text", t.text, "base", t.base),
        ("text", t.text, "alternate base", t.alternate_base),
        ("window text", t.window_text, "window", t.window),
        ("button text", t.button_text, "button", t.button),
        ("selected text", t.highlighted_text, "selection", t.highlight),
        ("tooltip", t.tooltip_text, "tooltip", t.tooltip_base),
    ]
    for name in ("placeholder", "link", "link_visited"):
        for bg_name in ("base", "window"):
            pairs.append((name, getattr(t, name), bg_name, getattr(t, bg_name)))
    message_colors = [(n, getattr(t, n)) for n in ("own", "their", "dim", "error", "separator", "link")]
    message_colors += [(f"nick {i}", c) for i, c in enumerate(t.nicks)]
    for bg_name in ("base", "search_hit", "mention"):
        for name, color in message_colors:
            pairs.append((name, color, bg_name, getattr(t, bg_name)))
    pairs += [("marked text", t.marked_text, bg, getattr(t, bg)) for bg in ("search_hit", "mention")]
    return pairs


def failures(t: ThemeColors) -> list[str]:
    return [
        f"{t.scheme} {what} {fg} on {where} {bg}: {contrast(fg, bg):.2f}"
        for what, fg, where, bg in text_pairs(t)
        if contrast(fg, bg) < TEXT_MIN
    ]


def test_the_ratio_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_every_text_colour_is_readable(theme: ThemeColors) -> None:
    assert failures(theme) == []


def test_a_bad_colour_fails_the_check() -> None:
    from dataclasses import replace

    grey_on_white = replace(LIGHT, dim="#808080")  # 3.95:1: the old timestamp grey
    dark_link_on_dark = replace(DARK, link="#0b57c2")  # the light theme's link on the dark base
    assert any("dim #808080 on base" in f for f in failures(grey_on_white))
    assert any("link #0b57c2 on base" in f for f in failures(dark_link_on_dark))


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_presence_icons_stand_out_on_both_backgrounds(theme: ThemeColors) -> None:
    for kind, color in PRESENCE_COLORS.items():
        svg = resources.presence_svg(PRESENCE_FILES[kind]).read_text(encoding="utf-8")
        assert color.lower() in svg.lower(), f"{kind}: the icon is not drawn in {color}"
        for where, bg in (("base", theme.base), ("window", theme.window), ("alternate base", theme.alternate_base)):
            ratio = contrast(color, bg)
            assert ratio >= GRAPHIC_MIN, f"{theme.scheme} {kind} {color} on {where} {bg}: {ratio:.2f}"
