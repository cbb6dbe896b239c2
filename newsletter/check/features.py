"""Which caniemail features a piece of an email uses: a CSS declaration, a selector, an element.

Each function answers with caniemail slugs (``css-border-radius``, ``html-svg``, …); whether a
client supports them is :mod:`.support`'s table.
"""
from __future__ import annotations

import re

from lxml.html import HtmlElement

from .support import known_features

_SEMANTIC = {"article", "aside", "details", "figcaption", "figure", "footer", "header", "main",
             "mark", "nav", "section", "summary", "time"}
_PLAIN_ELEMENTS = {"abbr", "acronym", "address", "audio", "base", "bdi", "blockquote", "body",
                   "code", "del", "dfn", "dialog", "div", "hr", "marquee", "meter", "p", "picture",
                   "pre", "progress", "rp", "rt", "ruby", "select", "small", "span", "strike",
                   "strong", "style", "svg", "table", "textarea", "video", "wbr"}
_ATTRIBUTES = {"align", "background", "cellpadding", "cellspacing", "dir", "height", "hidden",
               "lang", "role", "target", "valign", "width"}
_IMAGE_TYPES = {"webp": "image-webp", "avif": "image-avif", "svg": "image-svg", "bmp": "image-bmp",
                "tif": "image-tiff", "tiff": "image-tiff", "heic": "image-heif",
                "heif": "image-heif", "ico": "image-ico", "apng": "image-apng", "gif": "image-gif",
                "hdr": "image-hdr", "mp4": "image-mp4"}
_FUNCTIONS = {"linear-gradient": "css-linear-gradient", "repeating-linear-gradient":
              "css-linear-gradient", "radial-gradient": "css-radial-gradient",
              "repeating-radial-gradient": "css-radial-gradient", "conic-gradient":
              "css-conic-gradient", "calc": "css-unit-calc", "min": "css-function-min",
              "max": "css-function-max", "clamp": "css-function-clamp", "rgb": "css-rgb",
              "rgba": "css-rgba", "var": "css-variables", "light-dark": "css-function-light-dark",
              "lch": "css-modern-color", "oklch": "css-modern-color", "lab": "css-modern-color",
              "oklab": "css-modern-color"}
_FUNCTION = re.compile(r"(?<![\w-])([a-z-]+)\(", re.I)
_UNIT = re.compile(
    r"(?<![\w#.-])-?(?:\d+\.?\d*|\.\d+)(rem|ch|vh|vw|vmin|vmax|em|ex|pt|pc|cm|mm|in)\b", re.I)
_SIDES = "(?:-(?:top|right|bottom|left))?"
#: property patterns -> slug, for properties caniemail names as a family (first match wins)
_PREFIXES = [
    (re.compile(rf"^margin{_SIDES}$"), "css-margin"),
    (re.compile(rf"^padding{_SIDES}$"), "css-padding"),
    (re.compile(r"^margin-(?:inline|block)$"), "css-margin-inline-block"),
    (re.compile(r"^margin-inline-(?:start|end)$"), "css-margin-inline-start-end"),
    (re.compile(r"^margin-block-(?:start|end)$"), "css-margin-block-start-end"),
    (re.compile(r"^padding-(?:inline|block)$"), "css-padding-inline-block"),
    (re.compile(r"^padding-inline-(?:start|end)$"), "css-padding-inline-start-end"),
    (re.compile(r"^padding-block-(?:start|end)$"), "css-padding-block-start-end"),
    (re.compile(r"^border-(?:top|right|bottom|left)-(?:left|right)?-?radius$|^border-\w+-\w+-radius$"),
     "css-border-radius"),
    (re.compile(r"^border-(?:start|end)-(?:start|end)-radius$"), "css-border-radius-logical"),
    (re.compile(r"^border-(?:inline|block)$"), "css-border-inline-block"),
    (re.compile(r"^border-(?:inline|block)-(?:start|end)$"), "css-border-inline-block-individual"),
    (re.compile(r"^border-(?:inline|block)-"), "css-border-inline-block-longhand"),
    (re.compile(rf"^border{_SIDES}(?:-(?:width|style|color))?$"), "css-border"),
    (re.compile(r"^list-style-"), "css-list-style"),
    (re.compile(r"^(?:row-|column-)?gap$"), "css-gap"),
    (re.compile(r"^column-"), "css-column-layout-properties"),
    (re.compile(r"^columns$"), "css-column-layout-properties"),
    (re.compile(r"^grid-template"), "css-grid-template"),
    (re.compile(r"^(?:left|right|top|bottom)$"), "css-left-right-top-bottom"),
    (re.compile(r"^(?:block|inline)-size$"), "css-block-inline-size"),
    (re.compile(r"^overflow-[xy]$"), "css-overflow"),
    (re.compile(r"^background-position-[xy]$"), "css-background-position"),
]
#: property -> values that are its initial value
_INITIAL = {
    "outline": {"none", "0"}, "box-shadow": {"none"}, "text-shadow": {"none"},
    "height": {"auto"}, "width": {"auto"}, "min-height": {"0", "0px"}, "min-width": {"0", "0px"},
    "max-height": {"none"}, "max-width": {"none"}, "float": {"none"}, "clear": {"none"},
    "opacity": {"1"}, "transform": {"none"}, "filter": {"none"}, "background-image": {"none"},
    "border-radius": {"0", "0px"}, "letter-spacing": {"normal"}, "word-spacing": {"normal"},
    "text-transform": {"none"}, "position": {"static"}, "z-index": {"auto"},
}
_COLOR_SCHEME_METAS = ("color-scheme", "supported-color-schemes")
#: display values every client shows as written
_PLAIN_DISPLAY = ("block", "inline", "inline-block", "table", "table-cell", "table-row",
                  "list-item")


def property_features(prop: str, value: str) -> set[str]:
    """caniemail slugs a declaration uses: its property, its value's functions, units, keywords."""
    found: set[str] = set()
    if prop.startswith("mso-"):
        return found
    if prop.startswith("--"):
        found.add("css-variables")
    bare = re.sub(r"^-(?:webkit|moz|ms|o)-", "", prop)
    if value.replace("!important", "").strip().lower() in _INITIAL.get(bare, ()):
        return found  # sets the default: a client that ignores it shows the same thing
    slug = _property_slug(bare)
    if slug:
        found.add(slug)
    low = value.lower()
    if bare == "display":
        display = _display_features(low.replace("!important", "").split())
        if display is None:
            found.discard("css-display")
        else:
            found |= display
    if bare == "flex-direction" and "column" in low:
        found.add("css-flex-direction")
    if bare == "flex-wrap" and "wrap" in low:
        found.add("css-flex-wrap")
    return found | _value_features(bare, low)


def _property_slug(bare: str) -> str | None:
    """The slug of the property itself (without vendor prefix): its own, else its family's."""
    if f"css-{bare}" in known_features():
        return f"css-{bare}"
    return next((slug for pattern, slug in _PREFIXES if pattern.search(bare)), None)


def _display_features(words: list[str]) -> set[str] | None:
    """What a ``display`` value uses; None when every client shows it (block, table, …)."""
    if "none" in words:
        return {"css-display-none"}
    if any(w in ("flex", "inline-flex") for w in words):
        return {"css-display-flex"}
    if any(w in ("grid", "inline-grid") for w in words):
        return {"css-display-grid"}
    if not all(w in _PLAIN_DISPLAY for w in words):
        return {"css-display"}
    return None


def _value_features(bare: str, low: str) -> set[str]:
    """Slugs of a lowercase value's functions, units and keywords (``bare``: its property)."""
    found = {_FUNCTIONS[name] for name in _FUNCTION.findall(low) if name in _FUNCTIONS}
    found |= {f"css-unit-{unit.lower()}" for unit in _UNIT.findall(low)}
    if re.search(r"(?<![\w-])initial(?![\w-])", low):
        found.add("css-unit-initial")
    if "!important" in low:
        found.add("css-important")
    if bare in ("font-family", "font") and re.search(
            r"system-ui|ui-(?:serif|sans-serif|monospace|rounded)", low):
        found.add("css-sytem-ui")  # sic: caniemail's slug
    if re.search(r"\b(?:fit|min|max)-content\b", low):
        found.add("css-intrinsic-size")
    return found


def selector_features(selector: str) -> set[str]:
    """caniemail slugs a selector list uses (combinators, pseudo-classes and -elements, …)."""
    found: set[str] = set()
    if "," in selector:
        found.add("css-selector-grouping")
    for one in selector.split(","):
        one = one.strip()
        found |= _pseudo_features(one)
        plain = re.sub(r"\([^)]*\)|\[[^\]]*\]", "", one)
        if "[" in one:
            found.add("css-selector-attribute")
        for mark, slug in (("*", "css-selector-universal"), (">", "css-selector-child"),
                           ("+", "css-selector-adjacent-sibling"),
                           ("~", "css-selector-general-sibling")):
            if mark in plain:
                found.add(slug)
        if re.search(r"[.#][\w-]+[.#][\w-]+", plain):
            found.add("css-selector-chaining")
        tight = plain.replace(" > ", ">").replace(" + ", "+").replace(" ~ ", "~")
        if re.search(r"\S\s+[^\s>+~]", tight):
            found.add("css-selector-descendant")
    return found


def _pseudo_features(selector: str) -> set[str]:
    """Slugs of the pseudo-classes and pseudo-elements caniemail knows in one selector."""
    found = set()
    for m in re.finditer(r"::?([a-z-]+)", selector, re.I):
        name = m.group(1).lower()
        element = m.group(0).startswith("::") or name in (
            "before", "after", "first-letter", "first-line")
        slug = f"css-pseudo-{'element' if element else 'class'}-{name}"
        if slug in known_features():
            found.add(slug)
    return found


def element_features(el: HtmlElement) -> set[str]:
    """caniemail slugs an element uses by its tag and attributes."""
    tag = el.tag.lower()
    found = _tag_features(el, tag) | _attribute_features(el)
    href = (el.get("href") or "").strip() if tag == "a" else ""
    if href.startswith("#") and len(href) > 1:
        found.add("html-anchor-links")
    if tag == "img":
        found |= _image_features((el.get("src") or "").strip().lower())
    return found


def _tag_features(el: HtmlElement, tag: str) -> set[str]:
    if tag in _PLAIN_ELEMENTS:
        return {f"html-{tag}"}
    if tag in _SEMANTIC:
        return {"html-semantics"}
    if tag in ("ul", "ol", "dl"):
        return {"html-lists"}
    if re.fullmatch(r"h[1-6]", tag):
        return {"html-h1-h6"}
    if tag in ("map", "area"):
        return {"html-image-maps"}
    if tag == "button":
        return {f"html-button-{(el.get('type') or 'submit').lower()}"}
    if tag == "input":
        return {f"html-input-{(el.get('type') or 'text').lower()}"}
    if tag == "meta" and (el.get("name") or "").lower() in _COLOR_SCHEME_METAS:
        return {"html-meta-color-scheme"}
    return set()


def _attribute_features(el: HtmlElement) -> set[str]:
    found = set()
    for attr in el.attrib:
        attr = attr.lower()
        if attr in _ATTRIBUTES:
            found.add(f"html-{attr}")
        elif attr in ("srcset", "sizes"):
            found.add("html-srcset")
        elif attr.startswith("aria-"):
            found.add(f"html-{attr}")
        elif attr in ("loading", "required"):
            found.add(f"html-{'loading-attribute' if attr == 'loading' else attr}")
        elif attr == "popover":
            found.add("html-popover")
        elif attr == "inert":
            found.add("css-inert-attribute")
        elif attr == "usemap":
            found.add("html-image-maps")
    return found


def _image_features(src: str) -> set[str]:
    """The image format an ``<img src>`` (lowercase) names, or base64 for a data: URL."""
    if src.startswith("data:"):
        return {"image-base64"}
    ext = src.split("?")[0].split("#")[0].rsplit(".", 1)[-1]
    return {_IMAGE_TYPES[ext]} if ext in _IMAGE_TYPES else set()
