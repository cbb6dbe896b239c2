"""The rules on an email's HTML: size, structure, links and images, contrast, footer.

Client support is :mod:`.client_rules`; :func:`check_html` runs both.
"""
from __future__ import annotations

import re

from lxml.html import HtmlElement

from ..compose import TOKENS
from ..config import Config
from .client_rules import client_rules
from .content_rules import postal_address_rule
from .contrast import contrast_ratio, hex_color, required_contrast
from .document import HIDDEN_TAGS, EmailDocument, direct_text, parse_html, visible_text
from .findings import Finding, report

#: Gmail clips a message whose HTML is larger than this ("[Message clipped] View entire message")
GMAIL_CLIP = 102 * 1024
GMAIL_CLIP_WARN = 80 * 1024
#: Gmail ignores a <style> block larger than this
STYLE_LIMIT = 16 * 1024
WIDTH_MIN, WIDTH_MAX = 600, 640
_FORBIDDEN_TAGS = ("script", "form", "iframe", "object", "embed", "applet")
_WIDTH_TAGS = ("table", "td", "th", "div", "img", "center")


def check_html(html: str, *, config: Config | None = None) -> list[Finding]:
    """Findings for an email's HTML: client support, size, structure, contrast, footer."""
    return report(html_findings(html, config)[0])


def html_findings(html: str, config: Config | None) -> tuple[list[Finding], str]:
    """The HTML's findings, unsorted, and the text a reader sees in it."""
    doc = parse_html(html)
    text = visible_text(doc)
    findings = (_size_rules(html) + _structure_rules(doc) + client_rules(doc)
                + _contrast_rules(doc) + _footer_rules(doc, text, config))
    return findings, text


def is_absolute_url(url: str, schemes: tuple[str, ...]) -> bool:
    """Whether ``url`` starts with one of ``schemes`` or is a token the sender fills in."""
    url = url.strip()
    return url in TOKENS.values() or url.lower().startswith(schemes)


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


def _structure_rules(doc: EmailDocument) -> list[Finding]:
    out = _head_rules(doc)
    for el, _style, _inherited in doc.elements:
        out += _element_rules(el)
    return out + _width_rules(doc)


def _head_rules(doc: EmailDocument) -> list[Finding]:
    """Doctype, language, character set and viewport."""
    out: list[Finding] = []
    if not doc.doctype:
        out.append(Finding("error", "doctype",
                           "The HTML has no <!DOCTYPE html>: clients render it in quirks mode, "
                           "which changes spacing and sizes."))
    if not (doc.root.get("lang") or "").strip():
        out.append(Finding("warning", "html-lang",
                           "<html> has no lang attribute: screen readers may read the email in "
                           "the wrong language."))
    metas = list(doc.root.iter("meta"))
    if not any(m.get("charset") or "charset=" in (m.get("content") or "").lower() for m in metas):
        out.append(Finding("error", "charset",
                           "The HTML declares no character set (<meta charset=\"utf-8\">): some "
                           "clients show accented letters and quotes as garbage."))
    if not any((m.get("name") or "").lower() == "viewport" for m in metas):
        out.append(Finding("warning", "viewport",
                           "No <meta name=\"viewport\">: phones may show a shrunken desktop "
                           "layout."))
    return out


def _element_rules(el: HtmlElement) -> list[Finding]:
    """Layout tables, images, links and elements mail clients strip."""
    tag = el.tag.lower()
    out = []
    if tag == "table" and (el.get("role") or "").lower() != "presentation" and not (
            el.find(".//th") is not None or el.find(".//caption") is not None):
        out.append(Finding("warning", "table-role",
                           "A layout <table> lacks role=\"presentation\": screen readers "
                           "announce its rows and columns instead of just reading the text."))
    if tag == "img":
        out += _image_rules(el)
    elif tag == "a":
        out += _link_rules(el)
    elif tag in _FORBIDDEN_TAGS or (
            tag == "link" and "stylesheet" in (el.get("rel") or "").lower()):
        what = "<link rel=\"stylesheet\">" if tag == "link" else f"<{tag}>"
        out.append(Finding("error", "forbidden-element",
                           f"The HTML contains {what}: mail clients strip it or send the "
                           "message to spam."))
    return out


def _width_rules(doc: EmailDocument) -> list[Finding]:
    """The widest fixed width in the layout, against the 600-640 px that fills reading panes."""
    widths: list[tuple[int, str]] = []
    for el, style, _inherited in doc.elements:
        tag = el.tag.lower()
        if tag in _WIDTH_TAGS:
            for value in (el.get("width"), style.get("width"), style.get("max-width")):
                m = re.fullmatch(r"\s*(\d+)\s*(px)?\s*", value or "")
                if m:
                    widths.append((int(m.group(1)), tag))
    if not widths:
        return []
    widest, tag = max(widths)
    if widest > WIDTH_MAX:
        return [Finding("error", "content-width",
                        f"A <{tag}> is {widest} px wide: wider than 640 px, the email "
                        "overflows reading panes and needs sideways scrolling.")]
    if widest < WIDTH_MIN:
        return [Finding("warning", "content-width",
                        f"The widest part of the layout is {widest} px: 600-640 px is the "
                        "usual width that fills reading panes.")]
    return []


def _image_rules(el: HtmlElement) -> list[Finding]:
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
    if not is_absolute_url(src, ("https://", "http://")):
        out.append(Finding("error", "image-url",
                           f"Image {name} has no absolute URL ({src or 'empty'}): it cannot load "
                           "in a mail client."))
    elif src.lower().startswith("http://"):
        out.append(Finding("warning", "image-url",
                           f"Image {name} is loaded over http: some clients block it or warn; "
                           "use https."))
    return out


def _link_rules(el: HtmlElement) -> list[Finding]:
    if el.get("href") is None:
        return []
    href = el.get("href").strip()
    if re.match(r"\s*(?:java|vb)script:", href, re.I):
        return [Finding("error", "javascript-link",
                        f"A link runs script ({href[:40]}): mail clients strip it and spam filters "
                        "flag it.")]
    if not is_absolute_url(href, ("https://", "http://", "mailto:", "tel:")):
        return [Finding("error", "link-url",
                        f"A link goes to {href[:60] or 'nothing'!r}, which is not a full "
                        "https:// or mailto: address: it will not work in a mail client.")]
    return []


def _contrast_rules(doc: EmailDocument) -> list[Finding]:
    """Visible text below WCAG AA contrast, once per colour pair and text size."""
    out = []
    seen = set()
    for el, _style, inherited in doc.elements:
        color, background = inherited.color, inherited.background
        if inherited.hidden or el.tag.lower() in HIDDEN_TAGS or color is None or background is None:
            continue
        text = direct_text(el)
        if not re.search(r"\w", text):
            continue
        large = inherited.size >= 24 or (inherited.bold and inherited.size >= 18.66)
        need = required_contrast(large_text=large)
        ratio = contrast_ratio(color, background)
        key = (color, background, large)
        if ratio < need and key not in seen:
            seen.add(key)
            sample = text[:40] + ("…" if len(text) > 40 else "")
            out.append(Finding("error", "contrast",
                               f"Text \"{sample}\" is {hex_color(color)} on "
                               f"{hex_color(background)}: "
                               f"contrast {ratio:.1f}:1, below the {need:g}:1 that WCAG AA asks "
                               f"for {'large ' if large else ''}text, so many readers struggle "
                               "to read it."))
    return out


def _footer_rules(doc: EmailDocument, text: str, config: Config | None) -> list[Finding]:
    """A visible unsubscribe link and the postal address, which the law asks of a newsletter."""
    out = []
    links = [
        el for el, _style, inherited in doc.elements
        if el.tag == "a" and not inherited.hidden
        and is_absolute_url(el.get("href") or "", ("https://", "http://"))
        and re.search(r"unsubscribe", el.text_content() + (el.get("title") or ""), re.I)
    ]
    if not links:
        out.append(Finding("error", "unsubscribe-link",
                           "The HTML has no visible link labelled 'unsubscribe': the law "
                           "(CAN-SPAM, GDPR) and spam filters expect one in every newsletter."))
    return out + postal_address_rule("HTML", text, config)
