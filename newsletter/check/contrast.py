"""Colours and WCAG 2.1 contrast: pure functions, no HTML.

>>> round(contrast_ratio(parse_color("#777"), parse_color("white")), 2)
4.48
"""
from __future__ import annotations

import re

RGB = tuple[int, int, int]

#: WCAG 2.1 AA minimum contrast for body text, and for large text (24 px, or bold 18.66 px)
AA_NORMAL_TEXT = 4.5
AA_LARGE_TEXT = 3.0

_NAMED = {
    "black": "000000", "white": "ffffff", "red": "ff0000", "green": "008000", "blue": "0000ff",
    "yellow": "ffff00", "gray": "808080", "grey": "808080", "silver": "c0c0c0",
    "maroon": "800000", "navy": "000080", "purple": "800080", "teal": "008080", "olive": "808000",
    "lime": "00ff00", "aqua": "00ffff", "fuchsia": "ff00ff", "orange": "ffa500",
    "lightgray": "d3d3d3", "lightgrey": "d3d3d3", "darkgray": "a9a9a9", "darkgrey": "a9a9a9",
    "dimgray": "696969", "dimgrey": "696969", "gainsboro": "dcdcdc", "whitesmoke": "f5f5f5",
    "gold": "ffd700", "pink": "ffc0cb", "brown": "a52a2a", "darkred": "8b0000",
    "darkblue": "00008b", "darkgreen": "006400", "lightblue": "add8e6", "beige": "f5f5dc",
    "ivory": "fffff0", "snow": "fffafa", "linen": "faf0e6", "crimson": "dc143c",
    "slategray": "708090", "slategrey": "708090", "lightyellow": "ffffe0", "coral": "ff7f50",
}


def parse_color(value: str) -> RGB | None:
    """#rgb, #rrggbb, rgb()/rgba() or a common colour name as (r, g, b); None when unknown."""
    v = value.strip().lower().replace("!important", "").strip()
    v = _NAMED.get(v, v).lstrip("#") if not v.startswith(("rgb", "#")) else v.lstrip("#")
    if re.fullmatch(r"[0-9a-f]{3,4}", v):
        return tuple(int(c * 2, 16) for c in v[:3])
    if re.fullmatch(r"[0-9a-f]{6}([0-9a-f]{2})?", v):
        return tuple(int(v[i : i + 2], 16) for i in (0, 2, 4))
    m = re.fullmatch(r"rgba?\(\s*([\d.]+%?)[\s,]+([\d.]+%?)[\s,]+([\d.]+%?).*\)", v)
    if m:
        return tuple(
            round(float(x[:-1]) * 2.55) if x.endswith("%") else min(255, round(float(x)))
            for x in m.groups()
        )
    return None


def luminance(rgb: RGB) -> float:
    """The WCAG relative luminance of an sRGB colour: 0 for black, 1 for white."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """The WCAG contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def required_contrast(*, large_text: bool) -> float:
    """The contrast WCAG 2.1 AA asks for text of that size."""
    return AA_LARGE_TEXT if large_text else AA_NORMAL_TEXT


def hex_color(rgb: RGB) -> str:
    """``#rrggbb`` for (r, g, b)."""
    return "#%02x%02x%02x" % rgb
