"""Render an issue (one or more articles) into email HTML and a plain-text part.

Ghost-style: the issue is rendered and inlined once; per-recipient values are placeholder
tokens filled in at the very end by :meth:`RenderedIssue.fill`. Preview, test send and the
real send all go through :func:`render_issue`.

Both parts come from the same view of the articles (:func:`issue_view`), each through its own
template in ``templates/email/``: ``digest.html`` (styles written once in ``styles.html``,
inlined by premailer) and ``digest.txt`` (wrapped at 78 columns, links written out).
``[branding]`` sets the accent colour, a logo and the footer line (:func:`brand_view`), and may
name a folder of templates that replace these by name.
"""
from __future__ import annotations

import logging
import re
import textwrap
import threading
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .config import Config
from .content import Article, Block, Inline
from .urls import article_url, is_absolute

#: Per-recipient values and the tokens that stand for them in a rendered issue. Tokens are
#: plain ASCII word characters, so quoted-printable encoding leaves them intact (it may still
#: break a line inside one: the MIME builder must guard against that).
TOKENS: dict[str, str] = {
    "name": "NLTOKxNAMExNLTOK",
    "email": "NLTOKxEMAILxNLTOK",
    "unsubscribe_url": "NLTOKxUNSUBSCRIBExNLTOK",
    "preferences_url": "NLTOKxPREFERENCESxNLTOK",
    "webview_url": "NLTOKxWEBVIEWxNLTOK",
}

#: the default email templates: ``[branding] templates`` may name a folder whose files of the
#: same name replace them (copy one from here to start)
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "email"
#: the backgrounds the accent colour is drawn on (light card, dark-mode card); the checker
#: measures the accent's contrast against these
CARD_BACKGROUND = "#ffffff"
DARK_CARD_BACKGROUND = "#1f2937"
TEXT_WIDTH = 78
PREHEADER_LENGTH = 150
SHORT_EXCERPT_LENGTH = 220
RTL_LANGUAGES = {"ar", "fa", "he", "ur", "yi"}


@dataclass(frozen=True)
class RenderedIssue:
    """One issue rendered once: every recipient's copy is this with the tokens filled in."""

    subject: str
    preheader: str
    html: str  # inlined email HTML with TOKENS in place
    text: str  # plain-text part with TOKENS in place

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        """The (html, text) for one recipient; ``values`` maps TOKENS keys to plain text."""
        html, text = self.html, self.text
        for key, token in TOKENS.items():
            value = values.get(key, "")
            html = html.replace(token, escape(value, quote=True))
            text = text.replace(token, value)
        return html, text


def render_issue(
    articles: list[Article],
    config: Config,
    *,
    subject: str | None = None,
    issue_date: date | None = None,
    issue_id: int | None = None,
    read_token: str | None = None,
) -> RenderedIssue:
    """Render ``articles`` (the first is the lead) once, with TOKENS for per-recipient values;
    article links name issue ``issue_id``'s copy of each article.

    ``read_token`` (a test copy's, see :func:`signing.test_token`) goes into the links to
    articles' pages on this site, so that they open before the issue is sent.
    """
    view = issue_view(articles, config, subject=subject, issue_date=issue_date, issue_id=issue_id,
                      read_token=read_token)
    env = _environment(config["branding"]["templates"])
    html = _inline(env.get_template("digest.html").render(view))
    text = env.get_template("digest.txt").render(view)
    return RenderedIssue(
        subject=view["subject"], preheader=view["preheader"], html=html, text=text.rstrip() + "\n"
    )


def render_notice(
    config: Config,
    *,
    subject: str,
    heading: str,
    before: list[str],
    button: tuple[str, str] | None = None,
    after: list[str] = (),
    footer: str,
) -> RenderedIssue:
    """A short email in the digest's look (``notice.html`` and ``notice.txt``): a heading,
    paragraphs, an optional (label, url) button, a footer line, then the preferences and
    unsubscribe links (TOKENS) as in every issue."""
    settings = config["newsletter"]
    language = settings.get("language", "en") or "en"
    view = {
        "name": settings["name"], "lang": language, "dir": text_direction(language),
        "subject": one_line(subject), "preheader": shorten(one_line(" ".join(before)), PREHEADER_LENGTH),
        "heading": heading, "before": before, "after": list(after), "footer": footer,
        "button_label": button[0] if button else "", "button_url": button[1] if button else "",
        "postal_address": settings["postal_address"], "tokens": TOKENS, **brand_view(config),
    }
    env = _environment(config["branding"]["templates"])
    html = _inline(env.get_template("notice.html").render(view))
    text = env.get_template("notice.txt").render(view)
    return RenderedIssue(subject=view["subject"], preheader=view["preheader"], html=html,
                         text=text.rstrip() + "\n")


# --- the view both templates read -------------------------------------------------------------


def issue_view(
    articles: list[Article],
    config: Config,
    *,
    subject: str | None = None,
    issue_date: date | None = None,
    issue_id: int | None = None,
    read_token: str | None = None,
) -> dict[str, Any]:
    """Everything the templates show, as plain values (HTML-safe only where typed Markup)."""
    if not articles:
        raise ValueError("an issue needs at least one article")
    settings = config["newsletter"]
    full_text = bool(config["content"]["full_text"])
    if issue_date is None:
        issue_date = datetime.now(config.timezone).date()
    lead, *rest = articles
    language = settings.get("language", "en") or "en"
    branding = config["branding"]
    return {
        "name": settings["name"],
        "lang": language,
        "dir": text_direction(language),
        "issue_date": long_date(issue_date),
        "subject": subject_line(subject or "", lead.title, settings["name"]),
        "preheader": shorten(one_line(lead.excerpt or _opening(lead)), PREHEADER_LENGTH),
        "postal_address": settings["postal_address"],
        "footer_text": one_line(branding["footer_text"])
        or f"You are receiving this because you subscribed to {one_line(settings['name'])}.",
        **brand_view(config),
        "full_text": full_text,
        "lead": article_view(lead, config, full_text=full_text, issue_id=issue_id, read_token=read_token),
        "others": [article_view(a, config, full_text=full_text, issue_id=issue_id, read_token=read_token)
                   for a in rest],
        "tokens": TOKENS,
    }


def brand_view(config: Config) -> dict[str, Any]:
    """``[branding]`` as every email template reads it: the accent colour, the backgrounds it
    is drawn on, and the logo (None: the newsletter's name instead)."""
    branding, name = config["branding"], config["newsletter"]["name"]
    logo = {"url": branding["logo_url"], "width": branding["logo_width"], "alt": branding["logo_alt"] or name}
    return {"accent": branding["accent_color"], "card": CARD_BACKGROUND, "dark_card": DARK_CARD_BACKGROUND,
            "logo": logo if branding["logo_url"] else None}


def subject_line(subject: str, lead_title: str, name: str) -> str:
    """The subject subscribers get: the issue's own, else the lead article's title, else the
    newsletter's name."""
    return one_line(subject) or one_line(lead_title) or one_line(name)


def article_view(article: Article, config: Config, *, full_text: bool,
                 issue_id: int | None = None, read_token: str | None = None) -> dict[str, Any]:
    """One article as the email templates and the public article page show it: the meta line,
    absolute links and images only, the excerpt unless the shown body opens with it, and the
    body blocks (all of them with ``full_text``, none otherwise). Its link names issue
    ``issue_id``'s copy of it."""
    excerpt = article.excerpt or _opening(article)
    blocks = [b for b in article.blocks if _showable(b)] if full_text else []
    quote = article.quote
    if quote and any(b.kind == "quote" and _same(b.content, quote.text) for b in blocks):
        quote = None  # the whole text already carries it
    excerpt_shown = "" if _opens_body(blocks, excerpt) else excerpt
    meta = [m for m in (short_date(article.date), _read_time(article.read_time), article.author) if m]
    return {
        "slug": article.slug,
        "title": article.title,
        "url": article_url(config, article.slug, article.url, issue_id, read_token),
        "source": article.url if is_absolute(article.url) else "",
        "meta": meta,
        "excerpt": excerpt_shown,
        "short_excerpt": shorten(excerpt, SHORT_EXCERPT_LENGTH),
        "quote": quote,
        "author": article.author,
        "author_bio": article.author_bio,
        "disclaimer": article.disclaimer,
        "image": article.image if is_absolute(article.image) else "",
        "image_alt": article.image_alt or article.title,
        "blocks": blocks,
    }


def text_direction(language: str) -> str:
    """``rtl`` for a right-to-left language tag (``he``, ``ar-EG``), else ``ltr``."""
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def _showable(block: Block) -> bool:
    if block.kind == "image":
        return is_absolute(block.src)
    if block.kind == "list":
        return bool(block.items)
    if block.kind == "rule":
        return True
    return block.content is not None and bool(block.content.text.strip())


def _opening(article: Article) -> str:
    """The opening paragraphs, for an article without an excerpt."""
    text = " ".join(
        b.content.text for b in article.blocks[:4] if b.kind == "paragraph" and b.content
    )
    return shorten(text, 300)


def _opens_body(blocks: list[Block], excerpt: str) -> bool:
    """The excerpt is the body's opening (the standfirst, or paragraphs it was cut from)."""
    opening: list[str] = []
    for block in blocks:
        if block.kind != "paragraph" or block.content is None:
            break
        opening.append(one_line(block.content.text))
    start = one_line(excerpt).rstrip("…").rstrip()
    return bool(start) and " ".join(opening).startswith(start)


def _same(inline: Inline | None, text: str) -> bool:
    return inline is not None and one_line(inline.text) == one_line(text)


def _read_time(minutes: int | None) -> str:
    return f"{minutes} min read" if minutes else ""


def short_date(day: date | None) -> str:
    """``3 Dec 2025``."""
    return f"{day.day} {day:%b %Y}" if day else ""


def long_date(day: date) -> str:
    """``3 December 2025``."""
    return f"{day.day} {day:%B %Y}"


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces, control characters dropped."""
    return " ".join(_CONTROL.sub("", text).split())


#: characters no email part should carry (tab and newline are whitespace, kept)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def _finalize(value):
    """Every ``{{ }}`` value in both templates, rid of control characters (Markup stays Markup)."""
    if isinstance(value, Markup):
        return Markup(_CONTROL.sub("", value))
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    return value


_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a sentence end when one is near enough,
    else at a word boundary with an ellipsis."""
    text = one_line(text)
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text + " ") if m.end() <= limit]
    if ends and ends[-1] >= limit * 0.4:
        return text[: ends[-1]]
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:—–-") + "…"


# --- plain-text helpers -----------------------------------------------------------------------

_URL = re.compile(r"^[(<]?(https?://|mailto:)|^NLTOKx")


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "", first: str | None = None) -> str:
    """``text`` filled to ``width`` columns; line breaks in it are kept. Only URLs may overrun
    (they are never broken); other over-long words are split."""
    first = indent if first is None else first
    lines: list[str] = []
    room = max(width - max(len(indent), len(first)), 10)
    for n, line in enumerate(text.split("\n")):
        words: list[str] = []
        for word in line.split():
            if len(word) > room and not _URL.search(word):
                words.extend(word[i : i + room] for i in range(0, len(word), room))
            else:
                words.append(word)
        filled = textwrap.fill(
            " ".join(words),
            width=width,
            initial_indent=first if n == 0 else indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines.append(filled or (first if n == 0 else indent).rstrip())
    return "\n".join(lines)


def underline(text: str, char: str = "=", width: int = TEXT_WIDTH) -> str:
    """A heading: ``text`` wrapped, with a line of ``char`` under its longest line."""
    body = wrap(one_line(text), width)
    if not body:
        return ""
    return f"{body}\n{char * min(width, max(len(line) for line in body.splitlines()))}"


# --- templates and inlining -------------------------------------------------------------------


def inline_html(inline: Inline | None) -> Markup:
    """An Inline's HTML as Markup: already made safe by the parser's allowlist."""
    return Markup(inline.html) if inline is not None else Markup("")


@cache
def _environment(overrides: str = ""):
    """The email templates' environment: files in the ``overrides`` folder first, then the
    defaults (:data:`TEMPLATES`)."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

    folders = [overrides, str(TEMPLATES)] if overrides else [str(TEMPLATES)]
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in folders]),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(wrap=wrap, underline=underline, inline_html=inline_html, one_line=one_line)
    return env


@cache
def _premailer():
    """One Premailer per process, configured never to touch the network.

    The template's CSS is the same for every render, so its parsed rules are kept after the
    first render; only matching them to the elements of each issue is done per render. The
    @media rules sit in a ``data-premailer="ignore"`` <style> that premailer leaves as written.
    """
    import cssutils
    from premailer import Premailer

    class TemplatePremailer(Premailer):
        _rules: dict = {}

        def _parse_style_rules(self, css_body, ruleset_index):
            key = (css_body, ruleset_index)
            if key not in self._rules:
                self._rules[key] = super()._parse_style_rules(css_body, ruleset_index)
            rules, leftover = self._rules[key]
            return list(rules), list(leftover)

    cssutils.log.setLevel(logging.CRITICAL)
    cssutils.ser.prefs.minimizeColorHash = False  # colours stay as written (#ffffff, not #fff)
    return TemplatePremailer(
        base_url=None,  # nothing is joined or fetched
        disable_link_rewrites=True,  # hrefs (and the tokens in them) stay exactly as written
        preserve_internal_links=True,
        allow_network=False,  # <link rel=stylesheet> is never loaded
        allow_loading_external_files=False,
        external_styles=None,
        keep_style_tags=False,  # inlined rules leave; @media and :pseudo rules stay in <style>
        strip_important=False,
        exclude_pseudoclasses=True,
        disable_basic_attributes=["width", "height"],  # the template sets pixel widths itself
        align_floating_images=False,
        disable_validation=True,
        cache_css_parsing=True,
        cssutils_logging_level=logging.CRITICAL,
    )


_PREMAILER_LOCK = threading.Lock()


def _inline(html: str) -> str:
    """Move the template's <style> rules into style attributes (once per render)."""
    with _PREMAILER_LOCK:  # cssutils keeps global state: one inlining at a time
        out = _premailer().transform(html, pretty_print=False)
    if not out.lstrip().lower().startswith("<!doctype"):
        out = "<!DOCTYPE html>\n" + out
    return "\n".join(_break_line(line) for line in out.split("\n"))


HTML_LINE_LIMIT = 800  # well under SMTP's 998, whatever transfer encoding the sender picks


def _break_line(line: str) -> str:
    """A long HTML line broken at spaces in text (between tags), where a newline means the same."""
    out: list[str] = []
    while len(line) > HTML_LINE_LIMIT:
        cut = line.rfind(" ", 0, HTML_LINE_LIMIT)
        while cut > 0 and not _outside_tag(line, cut):
            cut = line.rfind(" ", 0, cut)
        if cut <= 0:
            break
        out.append(line[:cut])
        line = line[cut + 1 :]
    out.append(line)
    return "\n".join(out)


def _outside_tag(line: str, i: int) -> bool:
    return line.rfind(">", 0, i) >= line.rfind("<", 0, i)
