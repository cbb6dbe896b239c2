"""Each issue's articles as they were when the issue was created (``issue_articles``).

The digest, ``/read`` and the web view of an issue read this copy, never the file that has the
slug today: moving, editing or deleting a file afterwards changes nothing a subscriber sees, and
a later draft that reuses a slug is not an article of any issue that went out.

An article is stored as JSON, field by field (:func:`to_json`, :func:`from_json`), without its
file path: the copy belongs to the issue, not to a file.
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import types
import typing
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from .content import Article


def to_json(article: Article) -> str:
    """The article as JSON (its ``path`` left out)."""
    return json.dumps(_plain(dataclasses.replace(article, path=None)), ensure_ascii=False)


def from_json(text: str) -> Article:
    """The article :func:`to_json` wrote (fields the model no longer has are skipped)."""
    return _build(Article, json.loads(text))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def _build(kind: Any, value: Any) -> Any:
    """``value`` read from JSON as the type ``kind`` (a dataclass of the article model, a list
    or tuple of one, ``X | None``, a date, a path or a plain value)."""
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return _build(next(a for a in typing.get_args(kind) if a is not type(None)), value)
    if origin in (list, tuple):
        items = [_build(typing.get_args(kind)[0], item) for item in value]
        return items if origin is list else tuple(items)
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        names = {f.name for f in dataclasses.fields(kind)}
        return kind(**{key: _build(hints[key], item) for key, item in value.items() if key in names})
    if kind is date:
        return date.fromisoformat(value)
    if kind is Path:
        return Path(value)
    return value


def store(conn: sqlite3.Connection, issue_id: int, articles: Sequence[Article]) -> None:
    """Keep ``articles`` (the lead first) as issue ``issue_id``'s copy, unless it has one
    (call inside the transaction that makes or changes the issue)."""
    conn.executemany(
        "INSERT INTO issue_articles (issue_id, position, slug, article) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (issue_id, position) DO NOTHING",
        [(issue_id, n, a.slug, to_json(a)) for n, a in enumerate(articles)],
    )


def renew(conn: sqlite3.Connection, issue_id: int, articles: Sequence[Article]) -> None:
    """Put ``articles`` in place of the issue's copy (in the caller's transaction)."""
    conn.execute("DELETE FROM issue_articles WHERE issue_id = ?", (issue_id,))
    store(conn, issue_id, articles)


def load(conn: sqlite3.Connection, issue_id: int) -> list[Article]:
    """The issue's copy of its articles, the lead first ([] for an issue made before copies
    were kept)."""
    rows = conn.execute("SELECT article FROM issue_articles WHERE issue_id = ? ORDER BY position",
                        (issue_id,))
    return [from_json(row[0]) for row in rows]


def titles(conn: sqlite3.Connection, issue_id: int) -> list[tuple[str, str]]:
    """(slug, title) of each article in the issue's copy, the lead first ([] without one)."""
    rows = conn.execute("SELECT slug, article FROM issue_articles WHERE issue_id = ? ORDER BY position",
                        (issue_id,))
    return [(slug, json.loads(article).get("title", "")) for slug, article in rows]


def newest_with(conn: sqlite3.Connection, slug: str, states: Sequence[str],
                issue_id: int | None = None) -> tuple[int, Article] | None:
    """(issue id, article) of the newest issue in ``states`` (only ``issue_id``, if given)
    whose copy has an article ``slug``."""
    marks = ", ".join("?" * len(states))
    where, args = f"a.slug = ? AND i.state IN ({marks})", [slug, *states]
    if issue_id is not None:
        where, args = where + " AND i.id = ?", [*args, issue_id]
    row = conn.execute(
        f"SELECT a.issue_id, a.article FROM issue_articles a JOIN issues i ON i.id = a.issue_id"
        f" WHERE {where} ORDER BY a.issue_id DESC, a.position LIMIT 1", args,
    ).fetchone()
    return (row[0], from_json(row[1])) if row else None
