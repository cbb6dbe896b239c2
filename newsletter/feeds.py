"""Feeds in: ``[[feeds]]`` entries (RSS 0.9x/1.0/2.0 or Atom) pulled into the content folder.

:func:`pull` fetches every feed (see :mod:`newsletter.fetch`: timeout, size cap, conditional
GET with the ETag/Last-Modified kept per feed in ``feed_state``) and writes each new item as
an article (see :mod:`newsletter.article_file`). A feed that fails is reported in one line and
the others go on. An item is known by its id/guid (a guid that is not a URL is qualified with
the feed's URL), else its link, else its title; ``feed_items`` remembers every item pulled, so
none is pulled twice, even when its entry changes in the feed.

:func:`parse_feed` and :func:`entry_article` are pure: bytes in, articles out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import feedparser

from . import article_file
from .article_file import NewArticle, html_to_text, text_to_html
from .config import Config
from .content import cut_excerpt, slug_for
from .errors import InputError, NewsletterError
from .fetch import fetch, is_web_url
from .store import Connection, to_db_time, transaction

#: Most new items written per feed in one pull (the newest first; the rest come next time).
MAX_NEW_ITEMS = 100
FEED_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
_TITLE_MAX = 300
# What blogs put after a summary: a "read more" link, WordPress's "[…]" and its
# "The post X appeared first on Y." None of it belongs in the excerpt.
_SUMMARY_TAIL = re.compile(
    r"\s*(?:\[?(?:…|\.\.\.)\]?\s*)?(?:(?:Continue|Keep) reading|Read more)\b.*$"
    r"|\s*The post .{1,300} appeared first on .{1,200}$", re.I | re.S)
_CUT_MARK = re.compile(r"\s*\[(?:…|\.\.\.)\]\s*$")


class FeedError(InputError):
    """A feed that could not be read as a feed (exit 2)."""


@dataclass(frozen=True)
class Feed:
    """One ``[[feeds]]`` entry: a name, and an http(s) URL or an absolute file path."""

    name: str
    url: str


@dataclass
class Item:
    """A feed entry as an article to write, with the key that tells whether it was pulled."""

    key: str
    article: NewArticle
    published: datetime | None = None


@dataclass
class ParsedFeed:
    title: str
    link: str
    items: list[Item] = field(default_factory=list)


@dataclass
class FeedResult:
    """What :func:`pull` did with one feed: the slugs written, or the error that stopped it."""

    feed: str
    slugs: list[str] = field(default_factory=list)
    error: str = ""
    not_modified: bool = False


def configured(config: Config) -> list[Feed]:
    """The config's ``[[feeds]]`` as :class:`Feed` objects."""
    return [Feed(entry["name"], entry["url"]) for entry in config.feeds]


def parse_feed(data: bytes, url: str, tz: ZoneInfo, content_type: str = "") -> ParsedFeed:
    """The items of an RSS or Atom document (``url``: where it came from, for relative links).

    Broken XML that feedparser still reads is accepted; a document that is no feed at all
    (an HTML page, an empty file) is a :class:`FeedError`.
    """
    headers = {"content-location": url} if is_web_url(url) else {}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(data, response_headers=headers, resolve_relative_uris=False,
                              sanitize_html=True)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({' '.join(str(problem).split())[:120]})" if problem else ""
        raise FeedError(f"{url}: not an RSS or Atom feed{detail}")
    doc_url = url if is_web_url(url) else ""
    feed_link = _absolute(parsed.feed.get("link", ""), doc_url)
    result = ParsedFeed(html_to_text(parsed.feed.get("title", "")), feed_link)
    for entry in parsed.entries:
        article = entry_article(entry, tz, doc_url=doc_url, feed_link=feed_link)
        result.items.append(Item(item_key(entry, doc_url or feed_link or url), article, _published(entry)))
    return result


def item_key(entry: feedparser.FeedParserDict, feed_url: str) -> str:
    """What makes an entry the same entry: its id (qualified with ``feed_url`` unless it is
    a URL or URN already), else its link, else its title."""
    ident = " ".join(str(entry.get("id") or "").split())
    if ident:
        return ident if re.match(r"^[a-z][a-z0-9+.-]*:\S", ident, re.I) else f"{feed_url}#{ident}"
    link = str(entry.get("link") or "").strip()
    if link:
        return link
    return f"{feed_url}#title:{' '.join(str(entry.get('title') or '').split())}"


def entry_article(entry: feedparser.FeedParserDict, tz: ZoneInfo, *, doc_url: str = "",
                  feed_link: str = "") -> NewArticle:
    """A feed entry as a :class:`NewArticle`.

    ``doc_url``: the feed's own URL ("" for a file); ``feed_link``: the site it links to.
    Relative links in the content resolve against an explicit ``xml:base``, else the item's
    link (the page the content comes from), else the feed's link.
    """
    link = _absolute(str(entry.get("link") or ""), feed_link or doc_url)
    summary_html = str(entry.get("summary") or "")
    body = _full_content(entry) or summary_html
    excerpt = _excerpt(summary_html or body)
    base = _explicit_base(entry, doc_url) or link or feed_link or doc_url
    title = html_to_text(str(entry.get("title") or ""))[:_TITLE_MAX] or _fallback_title(excerpt)
    published = _published(entry)
    return NewArticle(
        title=title,
        date=published.astimezone(tz).date() if published else None,
        author=_author(entry),
        excerpt=excerpt,
        url=link if is_web_url(link) else "",
        image=_image(entry, body, base),
        tags=[str(t.get("term", "")) for t in entry.get("tags", []) if str(t.get("term", "")).strip()][:10],
        body_html=body,
        base=base,
    )


def _full_content(entry) -> str:
    """The entry's longest HTML content (``content:encoded``, Atom ``content``), else ""."""
    best = ""
    for part in entry.get("content", []):
        value = str(part.get("value") or "")
        if part.get("type") == "text/plain":
            value = text_to_html(value)
        if len(value) > len(best):
            best = value
    return best


def _explicit_base(entry, doc_url: str) -> str:
    """The content's ``xml:base`` when the feed sets one (feedparser otherwise reports the
    document's own URL there)."""
    for part in entry.get("content", []) or [entry.get("summary_detail") or {}]:
        base = str(part.get("base") or "")
        if base and base != doc_url and is_web_url(base):
            return base
    return ""


def _excerpt(html: str) -> str:
    """The summary's text without "Continue reading" tails, cut at a sentence end."""
    text = _CUT_MARK.sub("…", _SUMMARY_TAIL.sub("", html_to_text(html))).strip()
    return cut_excerpt([text])[0] if text else ""


def _fallback_title(excerpt: str) -> str:
    words = excerpt.split()
    return " ".join(words[:10]) + ("…" if len(words) > 10 else "") if words else "Untitled"


def _author(entry) -> str:
    names = [html_to_text(str(a.get("name") or "")) for a in entry.get("authors", []) if a.get("name")]
    return ", ".join(n for n in names if n) or html_to_text(str(entry.get("author") or ""))


def _published(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        stamp = entry.get(key)
        if stamp:
            try:
                return datetime(*stamp[:6], tzinfo=timezone.utc)
            except (TypeError, ValueError):
                continue
    return None


def _image(entry, body_html: str, base: str) -> str:
    """The entry's picture: media:content, media:thumbnail, an image enclosure, itunes:image,
    else the first image in its content."""
    found = [m.get("url", "") for m in entry.get("media_content", [])
             if m.get("medium") == "image" or str(m.get("type", "")).startswith("image/")]
    found += [m.get("url", "") for m in entry.get("media_thumbnail", [])]
    found += [e.get("href", "") for e in entry.get("enclosures", []) if str(e.get("type", "")).startswith("image/")]
    found.append((entry.get("image") or {}).get("href", ""))
    match = re.search(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)", body_html, re.I)
    found.append(match.group(1) if match else "")
    for src in found:
        absolute = _absolute(src, base)
        if is_web_url(absolute):
            return absolute
    return ""


def _absolute(url: str, base: str) -> str:
    url = (url or "").strip()
    if not url or urlsplit(url).scheme or not is_web_url(base):
        return url
    return urljoin(base, url)


# --- reading and writing ------------------------------------------------------------------


def pull(conn: Connection, config: Config, now: datetime) -> list[FeedResult]:
    """Fetch every configured feed and write its new items into the content folder."""
    return [pull_feed(conn, config, feed, now) for feed in configured(config)]


def pull_feed(conn: Connection, config: Config, feed: Feed, now: datetime) -> FeedResult:
    """Pull one feed; any expected failure ends in ``FeedResult.error`` (one line)."""
    result = FeedResult(feed.name)
    state = conn.execute("SELECT etag, last_modified FROM feed_state WHERE url = ?", (feed.url,)).fetchone()
    try:
        got = fetch(feed.url, timeout=config["fetch"]["timeout"], max_bytes=config["fetch"]["max_bytes"],
                    etag=state["etag"] if state else "", last_modified=state["last_modified"] if state else "",
                    accept=FEED_ACCEPT)
        if got.not_modified:
            result.not_modified = True
        else:
            parsed = parse_feed(got.body, got.url, config.timezone, got.content_type)
            result.slugs = _write_new(conn, config, feed, parsed.items, now)
    except NewsletterError as exc:
        result.error = str(exc)
        return result
    except ValueError as exc:  # feedparser on input it cannot cope with
        result.error = f"{feed.url}: cannot read the feed: {' '.join(str(exc).split())[:160]}"
        return result
    conn.execute(
        "INSERT INTO feed_state (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,"
        " last_modified = excluded.last_modified, checked_at = excluded.checked_at",
        (feed.url, got.etag or (state["etag"] if state else ""),
         got.last_modified or (state["last_modified"] if state else ""), to_db_time(now)),
    )
    return result


def _write_new(conn: Connection, config, feed: Feed, items: list[Item], now: datetime) -> list[str]:
    """Write the items not pulled before, newest first, at most :data:`MAX_NEW_ITEMS`."""
    keys = list(dict.fromkeys(item.key for item in items))
    known = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        known.update(r[0] for r in conn.execute(f"SELECT item_key FROM feed_items WHERE item_key IN ({marks})", chunk))
    fresh = [item for item in items if item.key not in known]
    fresh.sort(key=lambda item: item.published or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    today = now.astimezone(config.timezone).date()
    slugs: list[str] = []
    for item in fresh[:MAX_NEW_ITEMS]:
        slug = _write_item(conn, config.content_dir, feed, item, now, today)
        if slug:
            slugs.append(slug)
    slugs.reverse()  # oldest first, as they were published
    return slugs


def _write_item(conn: Connection, folder: Path, feed: Feed, item: Item, now: datetime,
                today: date) -> str:
    """Claim the item's key and write its article in one transaction; "" if already claimed."""
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO feed_items (item_key, feed, slug, published, pulled_at) VALUES (?, ?, '', ?, ?)"
            " ON CONFLICT DO NOTHING",
            (item.key, feed.name, to_db_time(item.published) if item.published else None, to_db_time(now)),
        )
        if cur.rowcount != 1:
            return ""
        path = article_file.write(folder, item.article, today)
        slug = slug_for(path.name)
        conn.execute("UPDATE feed_items SET slug = ? WHERE item_key = ?", (slug, item.key))
    return slug

