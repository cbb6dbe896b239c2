"""The accent colour (``[branding] accent_color``) against the backgrounds it is drawn on.

Light mode: links and the kicker are accent text on the white card, and buttons are white
text on the accent: both need WCAG AA's 4.5:1 against white. Dark mode: buttons and the quote
bar keep the accent on the dark card, where a control needs 3:1 (WCAG 1.4.11) to stand out.
"""
from __future__ import annotations

from ..compose import CARD_BACKGROUND, DARK_CARD_BACKGROUND
from ..config import Config
from .contrast import AA_LARGE_TEXT, AA_NORMAL_TEXT, contrast_ratio, parse_color
from .findings import Finding


def check_accent(config: Config) -> list[Finding]:
    """A warning for each background the accent colour lacks AA contrast on."""
    accent = config["branding"]["accent_color"]
    colour = parse_color(accent)
    if colour is None:  # the config refuses such a value; nothing to measure
        return []
    found = []
    on_white = contrast_ratio(colour, parse_color(CARD_BACKGROUND))
    if on_white < AA_NORMAL_TEXT:
        found.append(Finding(
            "warning", "accent-contrast",
            f"branding.accent_color {accent} has {on_white:.1f}:1 contrast on white (WCAG AA asks"
            f" {AA_NORMAL_TEXT:g}:1): links and button labels are hard to read; pick a darker colour."))
    on_dark = contrast_ratio(colour, parse_color(DARK_CARD_BACKGROUND))
    if on_dark < AA_LARGE_TEXT:
        found.append(Finding(
            "warning", "accent-contrast",
            f"branding.accent_color {accent} has {on_dark:.1f}:1 contrast on the dark-mode background"
            f" {DARK_CARD_BACKGROUND} (WCAG AA asks {AA_LARGE_TEXT:g}:1 for buttons): buttons fade"
            " into it; pick a lighter colour."))
    return found
