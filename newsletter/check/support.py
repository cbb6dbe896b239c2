"""What mail clients support: the caniemail table and how the checker weighs it.

``newsletter/data/caniemail.json`` is derived from caniemail by ``scripts/derive_caniemail.py``:
for each feature some target client lacks, the support value per client (``n`` not supported,
``a`` partly) and the notes that explain it.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "caniemail.json"


@cache
def support_data() -> dict[str, Any]:
    """The derived caniemail table: {"clients": {key: label}, "features": {slug: …}}."""
    return json.loads(DATA.read_text(encoding="utf-8"))


#: caniemail features every target client supports (left out of the derived table), which a
#: property must not be mapped past: background-color is not "css-background"
KNOWN_SUPPORTED = frozenset({
    "css-background-color", "css-border-collapse", "css-font", "css-text-align", "css-color",
    "css-direction", "css-vertical-align", "css-unit-px", "css-unit-percent", "css-unit-em",
    "css-unit-ex", "css-unit-pt", "css-unit-pc", "css-unit-cm", "css-unit-mm", "css-unit-in",
    "css-font-style", "css-font-family", "css-font-variant", "css-text-overflow",
})


@cache
def known_features() -> frozenset[str]:
    """Every caniemail slug the checker can name: those in the table and those all support."""
    return frozenset(support_data()["features"]) | KNOWN_SUPPORTED


#: never reported: support only decides whether the client makes use of a harmless hint
IGNORED = {
    "amp", "bimi", "css-comments", "html-comments", "html-doctype", "html-lang", "html-role",
    "html-aria-describedby", "html-aria-hidden", "html-aria-label", "html-aria-labelledby",
    "html-aria-live", "html-meta-color-scheme", "css-color-scheme", "html-target",
    "html-mailto-links",
    # reported by the structure rules instead (forbidden-element)
    "html-form", "html-object", "html-link",
}

#: partial support not reported: every email uses these; the caveats are edge cases
PARTIAL_OK = {
    "css-background", "css-border", "css-border-radius", "css-display", "css-font-size",
    "css-font-weight", "css-height", "css-important", "css-letter-spacing", "css-line-height",
    "css-list-style", "css-margin", "css-max-width", "css-padding", "css-text-align",
    "css-text-decoration", "css-text-indent", "css-text-transform", "css-width", "css-word-break",
    "css-selector-class", "css-selector-descendant", "css-selector-grouping", "css-selector-id",
    "css-selector-type", "html-align", "html-background", "html-base", "html-body", "html-dir",
    "html-height", "html-lists", "html-style", "html-width", "css-rgb",
}

#: unsupported means content, images or colours vanish: an error, not a warning
BREAKS = {
    "html-svg", "html-video", "html-audio", "html-picture", "image-base64", "image-svg",
    "image-avif", "image-heif", "image-tiff", "image-hdr", "image-mp4", "css-variables",
    "css-position", "css-function-light-dark", "css-modern-color",
}

#: fallbacks: slug -> (clients covered, "*" for all; the fallback the email must carry).
#: vml_shape: a VML shape in an <!--[if mso]> block (a roundrect button, a background rect);
#: mso_hide: every display:none also has mso-hide:all; mso_table: an <!--[if mso]> ghost table
#: fixes the width; wrapper: a full-width table right inside <body> repeats its background.
FALLBACKS = {
    "css-border-radius": (("outlook-windows",), "vml_shape"),
    "css-background-image": (("outlook-windows",), "vml_shape"),
    "css-display-none": (("outlook-windows",), "mso_hide"),
    "css-max-width": (("outlook-windows",), "mso_table"),
    "html-body": ("*", "wrapper"),
}
