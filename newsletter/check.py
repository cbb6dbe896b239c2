"""Email-safety and deliverability checks: what will break in which mail client, and why.

:func:`check_html` looks at an email's HTML, :func:`check_message` at a whole message (headers,
MIME structure, both parts) and :func:`check_article` at the message an article composes into.
Each returns :class:`Finding` objects, errors first. A finding's ``rule`` is a stable kebab-case
name; ``client-<feature>`` rules name caniemail features (``newsletter/data/caniemail.json``,
derived by ``scripts/derive_caniemail.py``).

Severities, rule by rule:

- client support (``client-*``): a warning naming the clients that lack a feature; an error only
  when a client loses content or colours outright (:data:`BREAKS`: images in formats it cannot
  show, inline SVG, video, CSS variables, ``position``, whitespace ``rgb()`` which Gmail answers by
  dropping the whole style). Partial support is not reported for the features every email relies
  on (:data:`PARTIAL_OK`: their caveats are edge cases such as negative margins), and a client is
  not named when the email carries a known fallback for it (:data:`FALLBACKS`). ``@media`` rules
  of an email whose base styles are inline are progressive enhancement and never reported.
- size: ``gmail-clipping`` warns from 80 KB of HTML and is an error from 102 KB (Gmail cuts the
  message there); ``style-too-large``: a ``<style>`` block over 16 KB, which Gmail drops.
- structure: errors for what breaks display or safety (``doctype``, ``charset``, ``image-alt``,
  relative ``image-url``/``link-url``, ``javascript-link``, ``forbidden-element``,
  ``content-width`` over 640 px); warnings for ``viewport``, ``html-lang``, ``table-role``,
  ``image-width``, ``image-url`` over http and a layout narrower than 600 px.
- message: every rule is an error (``multipart-alternative``, ``required-header``, ``date``,
  ``message-id``, ``from-address``, ``list-unsubscribe``, ``list-unsubscribe-post``,
  ``line-length``, ``header-newline``) except an unsubscribe URL over http (a warning, as in
  development).
- content: ``text-html-mismatch`` (error under 40 % shared words, warning under 60 %),
  ``unsubscribe-link``, ``postal-address`` and ``contrast`` are errors; ``base-url-https`` warns.
"""
from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import lxml.html
from lxml import etree

from .compose import TOKENS

DATA = Path(__file__).resolve().parent / "data" / "caniemail.json"

GMAIL_CLIP = 102 * 1024
GMAIL_CLIP_WARN = 80 * 1024
STYLE_LIMIT = 16 * 1024
MAX_LINE = 998
WIDTH_MIN, WIDTH_MAX = 600, 640
SIMILARITY_ERROR, SIMILARITY_WARN = 0.40, 0.60


@dataclass(frozen=True)
class Finding:
    """One problem: ``severity`` "error" or "warning", a stable ``rule`` name, a plain ``message``."""

    severity: str
    rule: str
    message: str

    def line(self) -> str:
        return f"{self.severity}  {self.rule}  {self.message}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _sorted(findings: list[Finding]) -> list[Finding]:
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: f.severity != "error")


# --- CSS reading ------------------------------------------------------------------------------


def parse_declarations(text: str) -> list[tuple[str, str]]:
    """``prop: value; …`` as (lowercase property, value) pairs; ``;`` inside () or quotes kept."""
    out, buf, depth, quote = [], [], 0, ""
    for ch in text + ";":
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == ";" and depth == 0:
            decl = "".join(buf)
            buf = []
            if ":" in decl:
                prop, value = decl.split(":", 1)
                if prop.strip() and value.strip():
                    out.append((prop.strip().lower(), value.strip()))
            continue
        buf.append(ch)
    return out


@dataclass
class Rule:
    """A rule of a style sheet: its selector or at-rule prelude and what it holds."""

    prelude: str
    declarations: list[tuple[str, str]] = field(default_factory=list)
    children: list["Rule"] = field(default_factory=list)


_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def parse_stylesheet(text: str) -> list[Rule]:
    """A small brace-matching reader: enough to see at-rules, selectors and declarations."""
    text = _COMMENT.sub("", text).replace("<!--", "").replace("-->", "")
    rules, _ = _parse_block(text, 0)
    return rules


def _parse_block(text: str, i: int) -> tuple[list[Rule], int]:
    rules: list[Rule] = []
    start = i
    while i < len(text):
        ch = text[i]
        if ch == "}":
            return rules, i + 1
        if ch == ";" and text[start:i].strip().startswith("@"):  # @import …;
            rules.append(Rule(text[start:i].strip()))
            start = i = i + 1
            continue
        if ch == "{":
            prelude = text[start:i].strip()
            name = prelude.split("(")[0].split()[0].lower() if prelude.startswith("@") else ""
            if name in ("@media", "@supports", "@document", "@layer", "@container"):
                children, i = _parse_block(text, i + 1)
                rules.append(Rule(prelude, children=children))
            else:
                end = _matching_brace(text, i)
                body = text[i + 1 : end]
                rule = Rule(prelude)
                if name != "@keyframes" and not name.endswith("keyframes"):
                    rule.declarations = parse_declarations(body)
                rules.append(rule)
                i = end + 1
            start = i
            continue
        i += 1
    return rules, i


def _matching_brace(text: str, i: int) -> int:
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(text)


# --- caniemail features -----------------------------------------------------------------------


@cache
def support_data() -> dict:
    """The derived caniemail table: {"clients": {key: label}, "features": {slug: …}}."""
    return json.loads(DATA.read_text(encoding="utf-8"))


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
_UNIT = re.compile(r"(?<![\w#.-])-?(?:\d+\.?\d*|\.\d+)(rem|ch|vh|vw|vmin|vmax|em|ex|pt|pc|cm|mm|in)\b",
                   re.I)
_SIDES = "(?:-(?:top|right|bottom|left))?"
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


@cache
def _all_slugs() -> frozenset[str]:
    return frozenset(support_data()["features"]) | _KNOWN_SUPPORTED


#: caniemail features every target client supports (left out of the derived table), which a
#: property must not be mapped past: background-color is not "css-background"
_KNOWN_SUPPORTED = frozenset({
    "css-background-color", "css-border-collapse", "css-font", "css-text-align", "css-color",
    "css-direction", "css-vertical-align", "css-unit-px", "css-unit-percent", "css-unit-em",
    "css-unit-ex", "css-unit-pt", "css-unit-pc", "css-unit-cm", "css-unit-mm", "css-unit-in",
    "css-font-style", "css-font-family", "css-font-variant", "css-text-overflow",
})


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
    slugs = _all_slugs()
    if f"css-{bare}" in slugs:
        found.add(f"css-{bare}")
    else:
        for pattern, slug in _PREFIXES:
            if pattern.search(bare):
                found.add(slug)
                break
    low = value.lower()
    if bare == "display":
        words = low.replace("!important", "").split()
        if "none" in words:
            found.add("css-display-none")
        elif any(w in ("flex", "inline-flex") for w in words):
            found.add("css-display-flex")
        elif any(w in ("grid", "inline-grid") for w in words):
            found.add("css-display-grid")
        elif not all(w in ("block", "inline", "inline-block", "table", "table-cell", "table-row",
                           "list-item") for w in words):
            found.add("css-display")
        else:
            found.discard("css-display")
    if bare == "flex-direction" and "column" in low:
        found.add("css-flex-direction")
    if bare == "flex-wrap" and "wrap" in low:
        found.add("css-flex-wrap")
    for name in _FUNCTION.findall(low):
        if name in _FUNCTIONS:
            found.add(_FUNCTIONS[name])
    for unit in _UNIT.findall(low):
        found.add(f"css-unit-{unit.lower()}")
    if re.search(r"(?<![\w-])initial(?![\w-])", low):
        found.add("css-unit-initial")
    if "!important" in low:
        found.add("css-important")
    if bare in ("font-family", "font") and re.search(r"system-ui|ui-(?:serif|sans-serif|monospace|rounded)", low):
        found.add("css-sytem-ui")
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
        for m in re.finditer(r"::?([a-z-]+)", one, re.I):
            name = m.group(1).lower()
            element = m.group(0).startswith("::") or name in (
                "before", "after", "first-letter", "first-line")
            slug = f"css-pseudo-{'element' if element else 'class'}-{name}"
            if slug in _all_slugs():
                found.add(slug)
        plain = re.sub(r"\([^)]*\)|\[[^\]]*\]", "", one)
        if "[" in one:
            found.add("css-selector-attribute")
        if "*" in plain:
            found.add("css-selector-universal")
        if ">" in plain:
            found.add("css-selector-child")
        if "+" in plain:
            found.add("css-selector-adjacent-sibling")
        if "~" in plain:
            found.add("css-selector-general-sibling")
        if re.search(r"[.#][\w-]+[.#][\w-]+", plain):
            found.add("css-selector-chaining")
        if re.search(r"\S\s+[^\s>+~]", plain.replace(" > ", ">").replace(" + ", "+").replace(" ~ ", "~")):
            found.add("css-selector-descendant")
    return found


def element_features(el) -> set[str]:
    """caniemail slugs an element uses by its tag and attributes."""
    tag = el.tag.lower()
    found: set[str] = set()
    if tag in _PLAIN_ELEMENTS:
        found.add(f"html-{tag}")
    elif tag in _SEMANTIC:
        found.add("html-semantics")
    elif tag in ("ul", "ol", "dl"):
        found.add("html-lists")
    elif re.fullmatch(r"h[1-6]", tag):
        found.add("html-h1-h6")
    elif tag in ("map", "area"):
        found.add("html-image-maps")
    elif tag == "button":
        found.add(f"html-button-{(el.get('type') or 'submit').lower()}")
    elif tag == "input":
        found.add(f"html-input-{(el.get('type') or 'text').lower()}")
    elif tag == "meta" and (el.get("name") or "").lower() in ("color-scheme", "supported-color-schemes"):
        found.add("html-meta-color-scheme")
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
    href = (el.get("href") or "").strip() if tag == "a" else ""
    if href.startswith("#") and len(href) > 1:
        found.add("html-anchor-links")
    if tag == "img":
        src = (el.get("src") or "").strip().lower()
        if src.startswith("data:"):
            found.add("image-base64")
        else:
            ext = src.split("?")[0].split("#")[0].rsplit(".", 1)[-1]
            if ext in _IMAGE_TYPES:
                found.add(_IMAGE_TYPES[ext])
    return found


@dataclass(frozen=True)
class Use:
    """Where a feature was first seen, for the message."""

    where: str
    detail: str = ""


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


# --- the HTML document ------------------------------------------------------------------------

_HIDDEN_TAGS = {"head", "style", "script", "title", "template", "noscript"}


@dataclass
class Doc:
    """A parsed email HTML and what the walk over it learnt."""

    root: object
    doctype: str
    mso_comments: str
    styles: list[str]
    elements: list = field(default_factory=list)  # (element, style dict, ctx) in document order
    mso_hide_for_display_none: bool = True


_DOCTYPE = re.compile(r"\ufeff?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<!DOCTYPE\s+html[^>]*>",
                      re.I | re.S)


def parse_html(html: str) -> Doc:
    data = html.encode("utf-8", "replace") if isinstance(html, str) else html
    try:
        root = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError):
        root = lxml.html.document_fromstring(b"<html><body></body></html>")
    head = data[:2048].decode("utf-8", "replace")
    m = _DOCTYPE.match(head)  # lxml invents a doctype when there is none: read the source
    doctype = m.group(0).strip() if m else ""
    comments = [c.text or "" for c in root.iter(etree.Comment)]
    mso = "\n".join(c for c in comments if re.match(r"\s*\[if [^\]]*mso", c, re.I))
    styles = [s.text_content() for s in root.iter("style")]
    return Doc(root, doctype, mso, styles)


@dataclass(frozen=True)
class Ctx:
    """What an element inherits: text colour, background (None = an image), size, weight, hidden."""

    color: tuple | None = (0, 0, 0)
    background: tuple | None = (255, 255, 255)
    size: float = 16.0
    bold: bool = False
    hidden: bool = False


_HEADING_SIZES = {"h1": 2.0, "h2": 1.5, "h3": 1.17, "h4": 1.0, "h5": 0.83, "h6": 0.67}


def _walk(doc: Doc) -> None:
    """Fill doc.elements: each element with its style and inherited context, in document order."""
    stack = [(doc.root, Ctx())]
    while stack:
        el, parent = stack.pop()
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        style = dict(parse_declarations(el.get("style") or ""))
        ctx = _context(el, tag, style, parent)
        doc.elements.append((el, style, ctx))
        if tag in _HIDDEN_TAGS and tag != "head":
            continue  # their content is code or a title, not elements
        for child in reversed(el):
            stack.append((child, ctx))


def _visible_text_in_order(doc: Doc) -> str:
    """The text a reader sees: no head, no hidden elements, no MSO-only comments."""
    parts: list[str] = []

    def visit(el, hidden: bool) -> None:
        if not isinstance(el.tag, str):
            if el.tail and not hidden:
                parts.append(el.tail)
            return
        tag = el.tag.lower()
        style = (el.get("style") or "").lower().replace(" ", "")
        hide = hidden or tag in _HIDDEN_TAGS or "display:none" in style or el.get("hidden") is not None
        if not hide and el.text:
            parts.append(el.text)
        if not hide and tag in ("br", "p", "div", "td", "th", "tr", "li", "h1", "h2", "h3", "h4"):
            parts.append(" ")
        for child in el:
            visit(child, hide)
        if el.tail and not hidden:
            parts.append(el.tail)

    visit(doc.root, False)
    return " ".join(parts)


def _context(el, tag: str, style: dict, parent: Ctx) -> Ctx:
    color = parent.color
    if tag == "a" and el.get("href"):
        color = (0, 0, 238)  # the link blue clients use unless the link sets its own colour
    if el.get("color") and tag == "font":
        color = parse_color(el.get("color")) or color
    if "color" in style:
        color = parse_color(style["color"]) or color
    background = parent.background
    bg_value = style.get("background-color") or style.get("background") or el.get("bgcolor")
    if style.get("background-image") or el.get("background") or re.search(
            r"url\(|gradient\(", style.get("background", ""), re.I):
        background = None  # an image: its colours are unknown
    elif bg_value:
        parsed = _first_color(bg_value)
        if parsed == "transparent":
            pass
        elif parsed is not None:
            background = parsed
    size = parent.size
    if tag in _HEADING_SIZES:
        size = parent.size * _HEADING_SIZES[tag]
    if "font-size" in style:
        size = _font_size(style["font-size"], parent.size)
    bold = parent.bold or tag in ("b", "strong", "th") or tag in _HEADING_SIZES
    weight = style.get("font-weight", "").strip().lower()
    if weight:
        bold = weight in ("bold", "bolder") or (weight.isdigit() and int(weight) >= 600)
    compact = re.sub(r"\s+", "", (el.get("style") or "").lower())
    hidden = (parent.hidden or tag == "head" or "display:none" in compact
              or el.get("hidden") is not None)
    return Ctx(color, background, size, bold, hidden)


def _font_size(value: str, inherited: float) -> float:
    m = re.match(r"\s*(\d*\.?\d+)\s*(px|pt|em|rem|%)?", value.lower())
    if not m:
        return {"small": 13.0, "x-small": 10.0, "large": 18.0, "x-large": 24.0,
                "xx-large": 32.0}.get(value.strip().lower(), inherited)
    number, unit = float(m.group(1)), m.group(2) or "px"
    return {"px": number, "pt": number * 4 / 3, "em": number * inherited,
            "rem": number * 16, "%": number * inherited / 100}[unit]


# --- colours and contrast ---------------------------------------------------------------------

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


def parse_color(value: str) -> tuple[int, int, int] | None:
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


def _first_color(value: str):
    low = value.strip().lower()
    if low in ("transparent", "none", "inherit", "initial"):
        return "transparent"
    for token in re.findall(r"rgba?\([^)]*\)|#[0-9a-f]{3,8}\b|[a-z]+", low):
        color = parse_color(token)
        if color is not None:
            return color
    return None


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#%02x%02x%02x" % rgb


# --- HTML rules -------------------------------------------------------------------------------


def _is_token(url: str) -> bool:
    return url in TOKENS.values()


def _absolute(url: str, schemes: tuple[str, ...]) -> bool:
    url = url.strip()
    return _is_token(url) or url.lower().startswith(schemes)


def check_html(html: str, *, config=None) -> list[Finding]:
    """Findings for an email's HTML: client support, size, structure, contrast, footer."""
    return _sorted(_html_findings(html, config)[0])


def _html_findings(html: str, config) -> tuple[list[Finding], str]:
    """The HTML's findings, unsorted, and its visible text."""
    doc = parse_html(html)
    _walk(doc)
    text = _visible_text_in_order(doc)
    findings = (_size_rules(html) + _structure_rules(doc) + _client_rules(doc)
                + _contrast_rules(doc) + _html_footer_rules(doc, text, config))
    return findings, text


def _size_rules(html: str) -> list[Finding]:
    out = []
    size = len(html.encode("utf-8")) if isinstance(html, str) else len(html)
    kb = size / 1024
    if size >= GMAIL_CLIP:
        out.append(Finding("error", "gmail-clipping",
                           f"The HTML is {kb:.0f} KB: Gmail cuts messages at 102 KB and hides the "
                           "rest, including the unsubscribe link, behind 'View entire message'."))
    elif size >= GMAIL_CLIP_WARN:
        out.append(Finding("warning", "gmail-clipping",
                           f"The HTML is {kb:.0f} KB, close to the 102 KB at which Gmail cuts the "
                           "message; shorten it or link to the full articles."))
    for style in re.findall(r"<style\b[^>]*>(.*?)</style>", html if isinstance(html, str) else "",
                            re.S | re.I):
        n = len(style.encode("utf-8"))
        if n > STYLE_LIMIT:
            out.append(Finding("error", "style-too-large",
                               f"A <style> block is {n / 1024:.0f} KB: Gmail ignores any <style> "
                               "over 16 KB, so none of its rules (mobile layout) apply there."))
    return out


def _structure_rules(doc: Doc) -> list[Finding]:
    out: list[Finding] = []
    root = doc.root
    if not doc.doctype:
        out.append(Finding("error", "doctype",
                           "The HTML has no <!DOCTYPE html>: clients render it in quirks mode, "
                           "which changes spacing and sizes."))
    if not (root.get("lang") or "").strip():
        out.append(Finding("warning", "html-lang",
                           "<html> has no lang attribute: screen readers may read the email in "
                           "the wrong language."))
    metas = list(root.iter("meta"))
    if not any(m.get("charset") or "charset=" in (m.get("content") or "").lower() for m in metas):
        out.append(Finding("error", "charset",
                           "The HTML declares no character set (<meta charset=\"utf-8\">): some "
                           "clients show accented letters and quotes as garbage."))
    if not any((m.get("name") or "").lower() == "viewport" for m in metas):
        out.append(Finding("warning", "viewport",
                           "No <meta name=\"viewport\">: phones may show a shrunken desktop "
                           "layout."))
    widths: list[tuple[int, str]] = []
    for el, style, _ctx in doc.elements:
        tag = el.tag.lower()
        if tag == "table" and (el.get("role") or "").lower() != "presentation" and not (
                el.find(".//th") is not None or el.find(".//caption") is not None):
            out.append(Finding("warning", "table-role",
                               "A layout <table> lacks role=\"presentation\": screen readers "
                               "announce its rows and columns instead of just reading the text."))
        if tag in ("table", "td", "th", "div", "img", "center"):
            for value in (el.get("width"), style.get("width"), style.get("max-width")):
                m = re.fullmatch(r"\s*(\d+)\s*(px)?\s*", value or "")
                if m:
                    widths.append((int(m.group(1)), tag))
        if tag == "img":
            out += _image_rules(el)
        elif tag == "a":
            out += _link_rules(el)
        elif tag in ("script", "form", "iframe", "object", "embed", "applet") or (
                tag == "link" and "stylesheet" in (el.get("rel") or "").lower()):
            what = "<link rel=\"stylesheet\">" if tag == "link" else f"<{tag}>"
            out.append(Finding("error", "forbidden-element",
                               f"The HTML contains {what}: mail clients strip it or send the "
                               "message to spam."))
    if widths:
        widest, tag = max(widths)
        if widest > WIDTH_MAX:
            out.append(Finding("error", "content-width",
                               f"A <{tag}> is {widest} px wide: wider than 640 px, the email "
                               "overflows reading panes and needs sideways scrolling."))
        elif widest < WIDTH_MIN:
            out.append(Finding("warning", "content-width",
                               f"The widest part of the layout is {widest} px: 600-640 px is the "
                               "usual width that fills reading panes."))
    return out


def _image_rules(el) -> list[Finding]:
    out = []
    src = (el.get("src") or "").strip()
    name = src.rsplit("/", 1)[-1][:60] or "(no src)"
    if el.get("alt") is None:
        out.append(Finding("error", "image-alt",
                           f"Image {name} has no alt text: with images off (the default in many "
                           "clients) and for screen readers it says nothing."))
    if not (el.get("width") or "").strip():
        out.append(Finding("warning", "image-width",
                           f"Image {name} has no width attribute: Outlook shows it at the file's "
                           "full size, which can burst the layout."))
    if src.lower().startswith("data:"):
        return out  # reported by client-image-base64
    if not _absolute(src, ("https://", "http://")):
        out.append(Finding("error", "image-url",
                           f"Image {name} has no absolute URL ({src or 'empty'}): it cannot load "
                           "in a mail client."))
    elif src.lower().startswith("http://"):
        out.append(Finding("warning", "image-url",
                           f"Image {name} is loaded over http: some clients block it or warn; "
                           "use https."))
    return out


def _link_rules(el) -> list[Finding]:
    if el.get("href") is None:
        return []
    href = el.get("href").strip()
    if re.match(r"\s*(?:java|vb)script:", href, re.I):
        return [Finding("error", "javascript-link",
                        f"A link runs script ({href[:40]}): mail clients strip it and spam filters "
                        "flag it.")]
    if not _absolute(href, ("https://", "http://", "mailto:", "tel:")):
        return [Finding("error", "link-url",
                        f"A link goes to {href[:60] or 'nothing'!r}, which is not a full "
                        "https:// or mailto: address: it will not work in a mail client.")]
    return []


def _usage_where(kind: str, el=None) -> str:
    return {"inline": f"in a style attribute on <{el.tag if el is not None else '?'}>",
            "style": "in the <style> block", "media": "in an @media rule",
            "element": f"on <{el.tag if el is not None else '?'}>", "html": "in the HTML"}[kind]


def _collect_uses(doc: Doc) -> dict[str, Use]:
    """slug -> first use. @media features count only when no base style is inline."""
    uses: dict[str, Use] = {}
    inline_count = 0

    def add(slugs, where: str, detail: str = "") -> None:
        for slug in slugs:
            uses.setdefault(slug, Use(where, detail))

    for el, style, _ctx in doc.elements:
        for slug in element_features(el):
            add([slug], _usage_where("html" if slug.startswith(("html-", "image-")) and (
                slug == f"html-{el.tag}" or slug.startswith("image-")) else "element", el))
        if _hidden_everywhere(style):
            continue  # a preheader: whatever hides it, it is hidden in every client
        if style:
            inline_count += 1
            for prop, value in style.items():
                feats = property_features(prop, value)
                if "css-display-none" in feats and (style.get("mso-hide", "").lower() != "all"):
                    doc.mso_hide_for_display_none = False
                add(feats, _usage_where("inline", el), f"{prop}: {value}")
    media: dict[str, Use] = {}
    for sheet in doc.styles:
        for rule in parse_stylesheet(sheet):
            _collect_rule(rule, uses, media, in_media=False)
    if not inline_count:  # with inline base styles, @media is progressive enhancement
        for slug, use in media.items():
            uses.setdefault(slug, use)
    return uses


def _hidden_everywhere(style: dict) -> bool:
    return (style.get("display", "").replace("!important", "").strip().lower() == "none"
            and style.get("mso-hide", "").replace("!important", "").strip().lower() == "all")


def _collect_rule(rule: Rule, uses: dict, media: dict, in_media: bool) -> None:
    target = media if in_media else uses
    prelude = rule.prelude
    if prelude.startswith("@"):
        name = prelude.split("(")[0].split()[0].lower()[1:]
        slug = {"media": "css-at-media", "font-face": "css-at-font-face", "import": "css-at-import",
                "keyframes": "css-at-keyframes", "supports": "css-at-supports"}.get(name)
        if name == "media":
            media.setdefault("css-at-media", Use(_usage_where("style"), prelude))
            low = prelude.lower()
            for feature, fslug in (("prefers-color-scheme", "css-at-media-prefers-color-scheme"),
                                   ("prefers-reduced-motion", "css-at-media-prefers-reduced-motion"),
                                   ("orientation", "css-at-media-orientation"),
                                   ("hover", "css-at-media-hover"),
                                   ("device-pixel-ratio", "css-at-media-device-pixel-ratio")):
                if feature in low:
                    media.setdefault(fslug, Use(_usage_where("style"), prelude))
            for child in rule.children:
                _collect_rule(child, uses, media, in_media=True)
            return
        if slug:
            target.setdefault(slug, Use(_usage_where("style"), prelude[:60]))
        for child in rule.children:
            _collect_rule(child, uses, media, in_media)
        if name == "font-face":
            return
    else:
        for slug in selector_features(prelude):
            target.setdefault(slug, Use(_usage_where("media" if in_media else "style"), prelude[:60]))
    for prop, value in rule.declarations:
        for slug in property_features(prop, value):
            target.setdefault(slug, Use(_usage_where("media" if in_media else "style"),
                                        f"{prop}: {value}"))


def _fallback_applies(name: str, doc: Doc) -> bool:
    mso = doc.mso_comments.lower()
    if name == "vml_shape":
        return bool(re.search(r"<v:(?:roundrect|rect|oval|shape|fill|image)\b", mso))
    if name == "mso_hide":
        return doc.mso_hide_for_display_none
    if name == "mso_table":
        return "<table" in mso
    if name == "wrapper":
        body = doc.root.find("body")
        first = next((c for c in body if isinstance(c.tag, str) and c.tag == "table"), None) \
            if body is not None else None
        return first is not None and first.get("width") == "100%" and bool(
            first.get("bgcolor") or "background" in (first.get("style") or ""))
    return False


def _client_rules(doc: Doc) -> list[Finding]:
    data = support_data()
    labels = data["clients"]
    uses = _collect_uses(doc)
    out = []
    for slug, use in uses.items():
        feature = data["features"].get(slug)
        if feature is None or slug in IGNORED:
            continue
        support = dict(feature["support"])
        if slug in FALLBACKS:
            clients, predicate = FALLBACKS[slug]
            if _fallback_applies(predicate, doc):
                support = {k: v for k, v in support.items() if clients != "*" and k not in clients}
        severity = "warning"
        if slug == "css-rgb" and re.search(r"rgba?\(\s*[\d.]+%?\s+[\d.]", use.detail):
            severity = "error"  # whitespace syntax: Gmail drops the whole style
            missing = [k for k in support if k.startswith(("gmail", "yahoo", "outlook-windows"))]
            partial = []
        else:
            # "not supported" whose note says "Buggy." works, with a quirk: partial support
            buggy = {k for k, v in support.items()
                     if v == "n" and feature["notes"].get(k, "").startswith("Buggy")}
            missing = [k for k, v in support.items() if v == "n" and k not in buggy]
            partial = [k for k, v in support.items()
                       if (v == "a" or k in buggy) and slug not in PARTIAL_OK]
            if slug in BREAKS and missing:
                severity = "error"
        if not missing and not partial:
            continue
        parts = []
        if missing:
            parts.append("not supported in " + ", ".join(labels[k] for k in missing))
        if partial:
            notes = {feature["notes"].get(k, "") for k in partial} - {""}
            text = "only partly supported in " + ", ".join(labels[k] for k in partial)
            if len(notes) == 1:
                text += f" ({notes.pop().rstrip('.')})"
            parts.append(text)
        detail = f": {use.detail}" if use.detail else ""
        message = f"{feature['title']} ({use.where}{detail}) is {'; '.join(parts)}."
        if slug == "css-rgb":
            message += (" Gmail drops the whole style when rgb() is written with spaces:"
                        " write rgb(0, 0, 0) or #000000.")
        elif severity == "error":
            message += " Readers there will miss what it shows."
        out.append(Finding(severity, f"client-{slug}", message))
    return out


def _direct_text(el) -> str:
    parts = [el.text or ""] + [child.tail or "" for child in el]
    return " ".join(p.strip() for p in parts if p and p.strip())


def _contrast_rules(doc: Doc) -> list[Finding]:
    out = []
    seen = set()
    for el, _style, ctx in doc.elements:
        if ctx.hidden or el.tag.lower() in _HIDDEN_TAGS or ctx.color is None or ctx.background is None:
            continue
        text = _direct_text(el)
        if not re.search(r"\w", text):
            continue
        large = ctx.size >= 24 or (ctx.bold and ctx.size >= 18.66)
        need = 3.0 if large else 4.5
        ratio = contrast_ratio(ctx.color, ctx.background)
        key = (ctx.color, ctx.background, large)
        if ratio < need and key not in seen:
            seen.add(key)
            sample = text[:40] + ("…" if len(text) > 40 else "")
            out.append(Finding("error", "contrast",
                               f"Text \"{sample}\" is {_hex(ctx.color)} on {_hex(ctx.background)}: "
                               f"contrast {ratio:.1f}:1, below the {need:g}:1 that WCAG AA asks "
                               f"for {'large ' if large else ''}text, so many readers struggle "
                               "to read it."))
    return out


def _words(text: str) -> list[str]:
    text = re.sub(r"(?:https?://|mailto:)\S+", " ", text)
    for token in TOKENS.values():
        text = text.replace(token, " ")
    return re.findall(r"\w+", text.lower())


def _contains_sequence(words: list[str], wanted: list[str]) -> bool:
    n = len(wanted)
    return n > 0 and any(words[i : i + n] == wanted for i in range(len(words) - n + 1))


def _html_footer_rules(doc: Doc, text: str, config) -> list[Finding]:
    out = []
    links = [
        el for el, _s, ctx in doc.elements
        if el.tag == "a" and not ctx.hidden
        and _absolute(el.get("href") or "", ("https://", "http://"))
        and re.search(r"unsubscribe", el.text_content() + (el.get("title") or ""), re.I)
    ]
    if not links:
        out.append(Finding("error", "unsubscribe-link",
                           "The HTML has no visible link labelled 'unsubscribe': the law "
                           "(CAN-SPAM, GDPR) and spam filters expect one in every newsletter."))
    out += _postal_rule("HTML", text, config)
    return out


def _postal_rule(part: str, text: str, config) -> list[Finding]:
    if config is None:
        return []
    address = str(config["newsletter"].get("postal_address", "")).strip()
    if not address:
        return [Finding("error", "postal-address",
                        "No postal address is configured (newsletter.postal_address): CAN-SPAM "
                        "requires one in every newsletter.")]
    if not _contains_sequence(_words(text), _words(address)):
        return [Finding("error", "postal-address",
                        f"The {part} part does not show the postal address ({address}): CAN-SPAM "
                        "requires it in every newsletter.")]
    return []


# --- the whole message ------------------------------------------------------------------------

_MESSAGE_ID = re.compile(r"<[^\s<>@\"]+@[^\s<>@\"]+>")
_ADDRESS = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+")


def check_message(raw: bytes, *, config=None) -> list[Finding]:
    """Findings for a whole message: MIME structure, headers, lines, both parts and the HTML."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    findings = _line_rules(raw) + _header_rules(msg, raw)
    text_part, html_part, structure = _parts(msg)
    if structure:
        findings.append(Finding("error", "multipart-alternative", structure))
    html = _decode(html_part) if html_part is not None else None
    text = _decode(text_part) if text_part is not None else None
    if html is not None:
        html_findings, visible = _html_findings(html, config)
        findings += html_findings
    if text is not None:
        findings += _text_rules(text, config)
    if html is not None and text is not None:
        findings += _similarity_rules(visible, text)
    return _sorted(findings)


def _decode(part) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _parts(msg) -> tuple[object, object, str]:
    """(text/plain part, text/html part, what is wrong with the structure or "")."""
    leaves = [p for p in msg.walk() if not p.is_multipart()]
    text = next((p for p in leaves if p.get_content_type() == "text/plain"), None)
    html = next((p for p in leaves if p.get_content_type() == "text/html"), None)
    ctype = msg.get_content_type()
    if ctype != "multipart/alternative":
        return text, html, (f"The message is {ctype}, not multipart/alternative with a plain-text "
                            "and an HTML part: spam filters distrust HTML-only mail and some "
                            "readers only see text.")
    payload = msg.get_payload()
    kinds = [p.get_content_type() for p in payload] if isinstance(payload, list) else []
    if kinds[:2] != ["text/plain", "text/html"]:
        return text, html, (f"The alternative parts are {', '.join(kinds) or 'missing'}: they "
                            "must be text/plain then text/html, so clients pick the HTML and "
                            "fall back to the text.")
    return text, html, ""


def _line_rules(raw: bytes) -> list[Finding]:
    long_lines = [i for i, line in enumerate(raw.split(b"\n"), 1) if len(line.rstrip(b"\r")) > MAX_LINE]
    if long_lines:
        return [Finding("error", "line-length",
                        f"{len(long_lines)} line(s) are longer than 998 characters (first: line "
                        f"{long_lines[0]}): mail servers may break or reject the message.")]
    return []


def _header_rules(msg, raw: bytes) -> list[Finding]:
    out: list[Finding] = []
    out += _newline_rules(msg, raw)
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        n = len(msg.get_all(name) or [])
        if n != 1:
            out.append(Finding("error", "required-header",
                               f"The {name} header appears {n} times: every message needs it "
                               "exactly once, or servers reject or mangle it."))
    date = msg.get("Date")
    if date is not None and msg.get_all("Date") and len(msg.get_all("Date")) == 1:
        try:
            if email.utils.parsedate_to_datetime(_unfold(date)) is None:
                raise ValueError
        except (TypeError, ValueError, IndexError):
            out.append(Finding("error", "date",
                               f"The Date header ({_unfold(date)[:40]}) is not a valid RFC 5322 "
                               "date: spam filters count that against the message."))
    mid = msg.get("Message-ID")
    if mid is not None and not _MESSAGE_ID.fullmatch(_unfold(mid).strip()):
        out.append(Finding("error", "message-id",
                           f"The Message-ID {_unfold(mid).strip()[:60]!r} is not of the form "
                           "<unique@domain>: spam filters count that against the message."))
    sender = msg.get("From")
    if sender is not None:
        addresses = [a for _n, a in email.utils.getaddresses([_decoded_header(sender)]) if a]
        if len(addresses) != 1 or not _ADDRESS.fullmatch(addresses[0]):
            out.append(Finding("error", "from-address",
                               f"From must hold exactly one valid address; it holds "
                               f"{', '.join(addresses) or 'none'}."))
    out += _unsubscribe_header_rules(msg)
    return out


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", str(value))


def _decoded_header(value: str) -> str:
    pieces = []
    for chunk, charset in email.header.decode_header(_unfold(value)):
        if isinstance(chunk, bytes):
            try:
                chunk = chunk.decode(charset or "ascii", "replace")
            except LookupError:
                chunk = chunk.decode("utf-8", "replace")
        pieces.append(chunk)
    return "".join(pieces)


def _newline_rules(msg, raw: bytes) -> list[Finding]:
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    crlf = head.count(b"\r\n")
    lf = head.count(b"\n") - crlf
    stray = head.count(b"\r") - crlf if crlf >= lf else head.count(b"\r")
    if crlf >= lf and lf and crlf:
        stray += lf
    bad = [name for name, value in msg.items() if re.search(r"[\r\n\0]", _decoded_header(value))]
    if any(isinstance(d, (email.errors.MissingHeaderBodySeparatorDefect,
                          email.errors.InvalidHeaderDefect)) for d in msg.defects):
        bad.append("(a broken header line)")
    if stray or bad:
        where = ", ".join(dict.fromkeys(bad)) or "the header block"
        return [Finding("error", "header-newline",
                        f"A line break is hidden in {where}: that is how header injection "
                        "works, and servers reject or misread such messages.")]
    return []


def _unsubscribe_header_rules(msg) -> list[Finding]:
    out = []
    value = msg.get_all("List-Unsubscribe") or []
    urls = re.findall(r"<([^>]*)>", _unfold(value[0])) if value else []
    web = [u for u in urls if u.lower().startswith(("https://", "http://"))]
    if not web:
        out.append(Finding("error", "list-unsubscribe",
                           "No List-Unsubscribe header with an https:// URL: Gmail and Yahoo "
                           "require one-click unsubscribe from bulk senders."))
    elif not any(u.lower().startswith("https://") for u in web):
        out.append(Finding("warning", "list-unsubscribe",
                           f"The List-Unsubscribe URL {web[0][:60]} is not https: fine in "
                           "development, but Gmail and Yahoo expect https (set base_url)."))
    posts = [_unfold(v).strip() for v in msg.get_all("List-Unsubscribe-Post") or []]
    if posts != ["List-Unsubscribe=One-Click"]:
        out.append(Finding("error", "list-unsubscribe-post",
                           "The message needs exactly one 'List-Unsubscribe-Post: "
                           "List-Unsubscribe=One-Click' header for one-click unsubscribe "
                           f"(found: {'; '.join(posts) or 'none'})."))
    return out


def _text_rules(text: str, config) -> list[Finding]:
    out = []
    lines = text.splitlines()
    has_link = any(
        re.search(r"unsubscribe", line, re.I)
        and re.search(r"https?://\S+", " ".join(lines[i : i + 3]))
        for i, line in enumerate(lines)
    )
    if not has_link:
        out.append(Finding("error", "unsubscribe-link",
                           "The plain-text part has no unsubscribe link (the word 'unsubscribe' "
                           "with an https:// address next to it)."))
    out += _postal_rule("plain-text", text, config)
    return out


def _similarity_rules(html_text: str, text: str) -> list[Finding]:
    a, b = set(_words(html_text)), set(_words(text))
    if not a and not b:
        return []
    score = len(a & b) / len(a | b)
    if score >= SIMILARITY_WARN:
        return []
    only_html = sorted(a - b, key=lambda w: (-len(w), w))[:5]
    only_text = sorted(b - a, key=lambda w: (-len(w), w))[:5]
    severity = "error" if score < SIMILARITY_ERROR else "warning"
    return [Finding(severity, "text-html-mismatch",
                    f"The plain-text part shares only {score:.0%} of its words with the HTML "
                    f"(needs {SIMILARITY_WARN:.0%}): spam filters score messages whose two parts "
                    f"differ. Only in HTML: {', '.join(only_html) or '-'}; only in text: "
                    f"{', '.join(only_text) or '-'}.")]


# --- an article, composed ---------------------------------------------------------------------


def check_base_url(config) -> list[Finding]:
    url = config.base_url
    if url.lower().startswith("https://"):
        return []
    dev = re.match(r"https?://(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?(?:/|$)", url, re.I)
    return [Finding("warning", "base-url-https",
                    f"base_url is {url}: unsubscribe and web-view links are not https"
                    + (" (fine for development on this machine, not for sending)." if dev
                       else "; Gmail and Yahoo expect https links, and readers see 'not secure'."))]


def check_article(article_or_slug, config) -> list[Finding]:
    """Findings for the message an article (or its slug or path) composes to, for a sample
    subscriber, plus the config's ``base_url`` check."""
    from . import compose, content, mail

    article = article_or_slug
    if isinstance(article_or_slug, (str, Path)):
        article = content.resolve(str(article_or_slug), config.content_dir)
    rendered = compose.render_issue([article], config)
    raw = mail.sample_message(rendered, config)
    return _sorted(check_message(raw, config=config) + check_base_url(config))
