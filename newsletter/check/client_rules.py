"""Client support: the caniemail features an email uses, and the clients that lack them.

Severities are :mod:`.support`'s policy: a warning naming the clients that lack a feature, an
error when they lose content or colours (``BREAKS``), nothing for the partial support of
features every email relies on (``PARTIAL_OK``) or for clients a fallback covers
(``FALLBACKS``). ``@media`` features of an email whose base styles are inline are progressive
enhancement and never reported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

from .css import StyleRule, at_rule_name, parse_stylesheet
from .document import EmailDocument
from .features import element_features, property_features, selector_features
from .findings import Finding
from .support import BREAKS, FALLBACKS, IGNORED, PARTIAL_OK, support_data

_MEDIA_FEATURES = (("prefers-color-scheme", "css-at-media-prefers-color-scheme"),
                   ("prefers-reduced-motion", "css-at-media-prefers-reduced-motion"),
                   ("orientation", "css-at-media-orientation"),
                   ("hover", "css-at-media-hover"),
                   ("device-pixel-ratio", "css-at-media-device-pixel-ratio"))
_AT_RULES = {"media": "css-at-media", "font-face": "css-at-font-face", "import": "css-at-import",
             "keyframes": "css-at-keyframes", "supports": "css-at-supports"}


@dataclass(frozen=True)
class FeatureUse:
    """Where a feature was first seen, for the message: ``in the <style> block: gap: 8px``."""

    where: str
    detail: str = ""


@dataclass
class Usage:
    """The features an email uses (slug -> first use, in the order met) and whether every
    ``display:none`` carries ``mso-hide:all`` (Outlook's fallback)."""

    features: dict[str, FeatureUse]
    mso_hide_everywhere: bool


def client_rules(doc: EmailDocument) -> list[Finding]:
    """A finding for each feature the email uses that some client lacks."""
    data = support_data()
    usage = collect_usage(doc)
    out = []
    for slug, use in usage.features.items():
        feature = data["features"].get(slug)
        if feature is None or slug in IGNORED:
            continue
        support = dict(feature["support"])
        if slug in FALLBACKS:
            clients, fallback = FALLBACKS[slug]
            if _fallback_present(fallback, doc, usage):
                support = {k: v for k, v in support.items() if clients != "*" and k not in clients}
        finding = _support_finding(slug, feature, support, use, data["clients"])
        if finding is not None:
            out.append(finding)
    return out


def _support_finding(slug: str, feature: dict[str, Any], support: dict[str, str],
                     use: FeatureUse, labels: dict[str, str]) -> Finding | None:
    """The finding for one used feature given each client's support, or None when all do."""
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
        return None
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
    return Finding(severity, f"client-{slug}", message)


def collect_usage(doc: EmailDocument) -> Usage:
    """The features the elements, inline styles and style sheets use. ``@media`` features
    count only when no base style is inline."""
    uses: dict[str, FeatureUse] = {}
    inline_count = 0
    mso_hide_everywhere = True
    for el, style, _inherited in doc.elements:
        for slug in element_features(el):
            uses.setdefault(slug, FeatureUse(_where_element_feature(slug, el)))
        if _hidden_everywhere(style):
            continue  # a preheader: whatever hides it, it is hidden in every client
        if style:
            inline_count += 1
            for prop, value in style.items():
                found = property_features(prop, value)
                if "css-display-none" in found and style.get("mso-hide", "").lower() != "all":
                    mso_hide_everywhere = False
                for slug in found:
                    uses.setdefault(slug, FeatureUse(_inline_where(el), f"{prop}: {value}"))
    media: dict[str, FeatureUse] = {}
    for sheet in doc.styles:
        for rule in parse_stylesheet(sheet):
            _collect_rule(rule, uses, media, in_media=False)
    if not inline_count:  # with inline base styles, @media is progressive enhancement
        for slug, use in media.items():
            uses.setdefault(slug, use)
    return Usage(uses, mso_hide_everywhere)


def _where_element_feature(slug: str, el: HtmlElement) -> str:
    """"in the HTML" for the element itself or its image format, "on <tag>" for an attribute."""
    itself = slug.startswith(("html-", "image-")) and (
        slug == f"html-{el.tag}" or slug.startswith("image-"))
    return "in the HTML" if itself else f"on <{el.tag}>"


def _inline_where(el: HtmlElement) -> str:
    return f"in a style attribute on <{el.tag}>"


def _hidden_everywhere(style: dict[str, str]) -> bool:
    return (style.get("display", "").replace("!important", "").strip().lower() == "none"
            and style.get("mso-hide", "").replace("!important", "").strip().lower() == "all")


def _collect_rule(rule: StyleRule, uses: dict[str, FeatureUse], media: dict[str, FeatureUse],
                  in_media: bool) -> None:
    """Add a style-sheet rule's features to ``uses`` (to ``media`` inside ``@media``)."""
    target = media if in_media else uses
    where = "in an @media rule" if in_media else "in the <style> block"
    prelude = rule.prelude
    if prelude.startswith("@"):
        name = at_rule_name(prelude)[1:]
        if name == "media":
            _collect_media_rule(rule, uses, media)
            return
        if name in _AT_RULES:
            target.setdefault(_AT_RULES[name], FeatureUse("in the <style> block", prelude[:60]))
        for child in rule.children:
            _collect_rule(child, uses, media, in_media)
        if name == "font-face":
            return
    else:
        for slug in selector_features(prelude):
            target.setdefault(slug, FeatureUse(where, prelude[:60]))
    for prop, value in rule.declarations:
        for slug in property_features(prop, value):
            target.setdefault(slug, FeatureUse(where, f"{prop}: {value}"))


def _collect_media_rule(rule: StyleRule, uses: dict[str, FeatureUse],
                        media: dict[str, FeatureUse]) -> None:
    """``@media`` itself, the media features its query tests, and the rules inside it."""
    use = FeatureUse("in the <style> block", rule.prelude)
    media.setdefault("css-at-media", use)
    query = rule.prelude.lower()
    for feature, slug in _MEDIA_FEATURES:
        if feature in query:
            media.setdefault(slug, use)
    for child in rule.children:
        _collect_rule(child, uses, media, in_media=True)


def _fallback_present(fallback: str, doc: EmailDocument, usage: Usage) -> bool:
    """Whether the email carries the named fallback (see ``support.FALLBACKS``)."""
    mso = doc.mso_comments.lower()
    if fallback == "vml_shape":
        return bool(re.search(r"<v:(?:roundrect|rect|oval|shape|fill|image)\b", mso))
    if fallback == "mso_hide":
        return usage.mso_hide_everywhere
    if fallback == "mso_table":
        return "<table" in mso
    if fallback == "wrapper":
        return _has_background_wrapper(doc)
    return False


def _has_background_wrapper(doc: EmailDocument) -> bool:
    """A full-width table right inside <body> that repeats the body's background."""
    body = doc.root.find("body")
    if body is None:
        return False
    first = next((c for c in body if isinstance(c.tag, str) and c.tag == "table"), None)
    return first is not None and first.get("width") == "100%" and bool(
        first.get("bgcolor") or "background" in (first.get("style") or ""))
