"""Article files and the content folder: the only I/O of the content package.

Reads files, lists the folder and finds an article by slug; decoding and parsing are handed to
:func:`~newsletter.content.parse.parse_text`, which is pure. Parsed articles (and load errors)
are cached by file identity, size and modification time, so the editor's pages, which list
every article on every request, parse a file again only once it has changed.
"""
from __future__ import annotations

import os
import re
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from datetime import date
from pathlib import Path

from ..errors import ContentError, InputError
from .model import ARTICLE_SUFFIXES, HTML_MAX_BYTES, HTML_SUFFIXES, MAX_BYTES, Article, slug_for
from .parse import parse_text

_SLUG_OK = re.compile(r"^[^\x00-\x1f/\\]{1,200}$")
#: Parsed articles kept in memory (an article takes a few times its file's size).
CACHE_ENTRIES = 256
#: A file modified less than this before it was read may be modified again within the same
#: tick of the file system's clock, unseen (same size, same mtime): it is not cached yet.
_SETTLE_NS = 2_000_000_000

#: (device, inode, size, mtime, ctime) of a file: it changes whenever the file does.
Stamp = tuple[int, int, int, int, int]


class ArticleCache:
    """The last ``entries`` articles (or load errors) read, by path and :data:`Stamp`; thread-safe."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[Stamp, Article | ContentError]] = OrderedDict()

    def get(self, key: str, stamp: Stamp) -> Article | ContentError | None:
        """What was read from ``key`` when it had ``stamp``, or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] != stamp:
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, stamp: Stamp, value: Article | ContentError) -> None:
        with self._lock:
            self._items[key] = (stamp, value)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)


_CACHE = ArticleCache(CACHE_ENTRIES)


def load_article(path: str | Path) -> Article:
    """Read and parse one article file; :class:`ContentError` if it cannot be an article.

    Served from the cache while the file is unchanged (a copy: changing it changes nothing).
    The path is the operator's to choose: it may lead anywhere (a slug never does).
    """
    return _load(Path(path))


def _load(path: Path, real: Path | None = None) -> Article:
    """:func:`load_article` of ``path``, opening ``real`` (the file ``path`` was found to be, see
    :func:`_inside`) if given."""
    key = str(path.absolute())
    stamp = _stamp(real or path)
    cached = _CACHE.get(key, stamp) if stamp else None
    if cached is None:
        try:
            cached = _read_article(path, real)
        except ContentError as exc:
            cached = exc
        if stamp and time.time_ns() - stamp[3] > _SETTLE_NS:
            _CACHE.put(key, stamp, cached)
    if isinstance(cached, ContentError):
        raise ContentError(str(cached))
    return replace(cached, blocks=list(cached.blocks), warnings=list(cached.warnings))


def _read_article(path: Path, real: Path | None) -> Article:
    data = _read_bytes(path, real)
    text, note = _decode(data, path)
    article = parse_text(text, path.name, path=path)
    if note:
        article.warnings.insert(0, note)
    return article


def _stamp(path: Path) -> Stamp | None:
    """The file's :data:`Stamp`, or None if it cannot be looked at (reading it will say why)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def load_articles_report(content_dir: str | Path) -> tuple[list[Article], list[str]]:
    """Every article in ``content_dir`` (newest first) and one error line per file that failed.

    Looks at files ending in :data:`ARTICLE_SUFFIXES`, not in subfolders, skipping hidden
    files, ``_drafts``-style names and README files. A second file with an already used slug
    is reported and skipped.
    """
    folder = Path(content_dir)
    if not folder.is_dir():
        return [], [f"{folder}: no such content folder"]
    articles: list[Article] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for path in _article_files(folder):
        slug = slug_for(path.name)
        if slug in seen:
            errors.append(f"{path}: slug {slug!r} is already used by {seen[slug]}; skipped")
            continue
        try:
            article = _load(path, _inside(folder, path, "skipped"))
        except ContentError as exc:
            errors.append(str(exc))
            continue
        seen[slug] = path.name
        articles.append(article)
    return _newest_first(articles), errors


def load_articles(content_dir: str | Path) -> list[Article]:
    """The articles of ``content_dir`` that parse, newest first (see :func:`load_articles_report`)."""
    return load_articles_report(content_dir)[0]


def resolve(slug_or_path: str | Path, content_dir: str | Path, *, allow_paths: bool = True) -> Article:
    """The article named by a slug of ``content_dir`` or (with ``allow_paths``) a file path.

    A slug is looked up among the folder's file names, never joined into a path, so
    ``../secret`` finds nothing, and a slug or file name of the folder that is a link to a file
    outside it is refused (:class:`ContentError`); a path with a folder in it is read as given.
    Unknown slug: :class:`InputError`; unreadable file: :class:`ContentError`. Pass
    ``allow_paths=False`` for untrusted input (web requests).
    """
    raw = str(slug_or_path).strip()
    looks_like_path = any(sep in raw for sep in ("/", "\\")) or raw.lower().endswith(ARTICLE_SUFFIXES)
    if allow_paths and (looks_like_path or isinstance(slug_or_path, Path)):
        bare = not any(sep in raw for sep in ("/", "\\"))
        if bare and not Path(raw).exists() and (Path(content_dir) / raw).is_file():
            in_folder = Path(content_dir) / raw  # a file name of the content folder
            return _load(in_folder, _inside(Path(content_dir), in_folder, "not read"))
        return load_article(raw)
    if not raw or looks_like_path or raw.startswith(".") or not _SLUG_OK.match(raw):
        raise InputError(f"{raw!r} is not an article slug (file names are not accepted here)")
    folder = Path(content_dir)
    wanted = raw.lower()
    if folder.is_dir():
        for path in _article_files(folder):
            if slug_for(path.name) == wanted:
                return _load(path, _inside(folder, path, "not read"))
    raise InputError(f"no article {raw!r} in {folder} (see the `articles` command)")


def _article_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir()
        if p.suffix.lower() in ARTICLE_SUFFIXES and not p.name.startswith((".", "_"))
        and not p.name.lower().startswith("readme") and p.is_file()
    )


def _inside(folder: Path, path: Path, outcome: str) -> Path:
    """The file ``path`` (an entry of ``folder``) really is, following links, if that is inside
    ``folder``; else :class:`ContentError` ending with ``outcome``."""
    real = path.resolve()
    if not real.is_relative_to(folder.resolve()):
        raise ContentError(f"{path}: links to a file outside the content folder; {outcome}")
    return real


def _newest_first(articles: list[Article]) -> list[Article]:
    ordered = sorted(articles, key=lambda a: a.slug)
    return sorted(ordered, key=lambda a: (a.date is not None, a.date or date.min), reverse=True)


def _read_bytes(path: Path, real: Path | None = None) -> bytes:
    """The bytes of the regular file ``path`` (or of ``real``, opened without following a link
    that may have replaced it since it was checked), at most :data:`MAX_BYTES`
    (:data:`HTML_MAX_BYTES` for a saved page). Pipes and devices are refused, not read."""
    limit = HTML_MAX_BYTES if path.suffix.lower() in HTML_SUFFIXES else MAX_BYTES
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (os.O_NOFOLLOW if real else 0)
    try:
        with os.fdopen(os.open(real or path, flags), "rb") as fh:
            info = os.fstat(fh.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise ContentError(f"{path}: is a folder, not an article file")
            if not stat.S_ISREG(info.st_mode):
                raise ContentError(f"{path}: not a regular file (a pipe, device or socket), not read")
            if info.st_size > limit:
                raise ContentError(f"{path}: {info.st_size / 1e6:.1f} MB is over the "
                                   f"{limit / 1e6:g} MB article size limit")
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise ContentError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ContentError(f"{path}: is a folder, not an article file") from None
    except OSError as exc:
        raise ContentError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise ContentError(f"{path}: over the {limit / 1e6:g} MB article size limit")
    return data


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """Text of an article file and a warning when it was not UTF-8."""
    if not data.strip():
        raise ContentError(f"{path}: empty file")
    if b"\x00" in data:
        raise ContentError(f"{path}: binary file (NUL bytes), not an article")
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        offset = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ContentError(f"{path}: not UTF-8 text (bad byte at offset {offset})") from None
    return text, "The file is not UTF-8; it was read as Windows-1252 (save it as UTF-8 to be sure)."
