"""Front matter: the YAML (``---``) or TOML (``+++``) block opening a Markdown article.

Finding its bounds, reading it (errors name the file and line) and applying its keys to an
:class:`Article` (doubtful values are warnings, never errors). Pure: no I/O.
"""
from __future__ import annotations

import re
import tomllib
from datetime import date, datetime

import yaml

from ..errors import ContentError
from .model import Article, Quote
from .sanitize import safe_image, safe_link
from .text import find_date, strip_quotes

#: Largest front matter read, in UTF-8 bytes (real front matter is well under 2 KB). YAML is
#: read by pure Python, so this bounds the time it takes.
MAX_FRONT_MATTER_BYTES = 32_000
#: Deepest ``[``/``{`` nesting of YAML front matter read.
MAX_YAML_DEPTH = 50

_KEY_LINE = re.compile(r"^[A-Za-z_][\w.-]*\s*[:=]")
_BRACKETS = re.compile(r"[\[\]{}]")
FRONT_MATTER_KEYS = frozenset({
    "title", "date", "author", "author_bio", "excerpt", "description", "summary", "quote",
    "quote_by", "url", "image", "image_alt", "tags", "disclaimer", "read_time",
})


def front_matter_bounds(lines: list[str]) -> int | None:
    """Index of the closing fence line when ``lines`` open with front matter, else None.

    ``---`` counts as front matter only if a ``key:`` line follows it (else it is a rule).
    """
    fence = lines[0].strip()
    closers = ("---", "...") if fence == "---" else ("+++",)
    for index in range(1, len(lines)):
        if lines[index].strip() in closers:
            inside = lines[1:index]
            if fence == "+++" or not any(line.strip() for line in inside) or any(
                    _KEY_LINE.match(line) for line in inside):
                return index
            return None
    if fence == "+++" or any(_KEY_LINE.match(line) for line in lines[1:4]):
        return -1  # opened, never closed
    return None


def read_front_matter(text: str, where: str, warnings: list[str]) -> tuple[dict, str, int]:
    """(front matter mapping, body, number of lines before the body).

    Front matter over :data:`MAX_FRONT_MATTER_BYTES`, YAML nested deeper than
    :data:`MAX_YAML_DEPTH` and anything unparseable raise :class:`ContentError` naming ``where``
    and the line; YAML aliases are read as empty, with a warning naming the first.
    """
    lead = len(text) - len(text.lstrip("\n"))
    skipped = text[:lead].count("\n")
    lines = text[lead:].split("\n")
    fence = lines[0].strip()
    if fence not in ("---", "+++"):
        return {}, text, 0
    end = front_matter_bounds(lines)
    if end is None:
        return {}, text, 0
    if end == -1:
        raise ContentError(f"{where}:{skipped + 1}: front matter: opened with {fence} but never closed")
    raw = "\n".join(lines[1:end])
    first_line = skipped + 2  # 1-based number of the first line inside the fences
    size = len(raw.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise ContentError(f"{where}:{first_line}: front matter: {size / 1000:.0f} KB is over the "
                           f"{MAX_FRONT_MATTER_BYTES / 1000:g} KB front matter limit")
    try:
        meta = tomllib.loads(raw) if fence == "+++" else _load_yaml(raw, where, first_line, warnings)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = first_line + int(match.group(1)) - 1 if match else first_line + raw.count("\n")
        message = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(exc))
        raise ContentError(f"{where}:{line}: front matter: {message} (TOML)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise ContentError(f"{where}:{line}: front matter: {problem} (YAML)") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        message = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ContentError(f"{where}:{first_line}: front matter: {message}") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ContentError(f"{where}:{first_line}: front matter: expected `key: value` lines, "
                           f"got a {type(meta).__name__}")
    return meta, "\n".join(lines[end + 1:]), skipped + end + 1


class _AliasFreeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader reading each alias (``*name``) as null, and noting where it was.

    Aliases are how a few hundred bytes expand to gigabytes ("billion laughs"); front matter has
    no use for them. An alias used as a merge key (``<<: *base``) merges nothing.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases: list[tuple[str, int]] = []  # (anchor name, 0-based line)

    def compose_node(self, parent: yaml.Node | None, index: yaml.Node | None) -> yaml.Node:
        if not self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        event = self.get_event()
        self.aliases.append((event.anchor, event.start_mark.line))
        if isinstance(index, yaml.ScalarNode) and index.tag == "tag:yaml.org,2002:merge":
            return yaml.MappingNode("tag:yaml.org,2002:map", [], event.start_mark, event.end_mark)
        return yaml.ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)


def _load_yaml(raw: str, where: str, first_line: int, warnings: list[str]) -> object:
    """The YAML value of ``raw`` (found from line ``first_line`` of file ``where``) without aliases:
    one warning names the first alias's line and the aliases ignored.

    Refuses (ValueError) nesting deeper than :data:`MAX_YAML_DEPTH` before parsing: PyYAML's
    scanner takes time quadratic in the depth of ``[``/``{`` nesting.
    """
    depth = deepest = 0
    for bracket in _BRACKETS.findall(raw):  # brackets inside quoted text count too: harmless
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_YAML_DEPTH:
        raise ValueError(f"nested more than {MAX_YAML_DEPTH} levels deep")
    loader = _AliasFreeLoader(raw)
    try:
        value = loader.get_single_data()
    finally:
        loader.dispose()
    if loader.aliases:
        names = list(dict.fromkeys(f"*{name}" for name, _ in loader.aliases))
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        warnings.append(f"{where}:{first_line + loader.aliases[0][1]}: front matter: YAML "
                        f"alias{'es' if len(names) > 1 else ''} {shown} ignored (aliases are not supported).")
    return value


def _fm_text(meta: dict, key: str, warnings: list[str]) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    warnings.append(f"Front matter {key!r} should be text; ignored.")
    return ""


def _fm_date(value: object, warnings: list[str]) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()  # the date where it was written (offset datetimes keep their offset)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            pass
        found = find_date(text)
        if found:
            if found[2]:
                warnings.append(found[2])
            return found[0]
    warnings.append(f"Front matter date {str(value)[:40]!r} is not a date; ignored.")
    return None


def _fm_tags(value: object, warnings: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raw = value.split(",")
    elif isinstance(value, (list, tuple)):
        raw = [str(v) for v in value if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
        if len(raw) != len(value):
            warnings.append("Some front matter tags are not text; ignored them.")
    else:
        warnings.append("Front matter 'tags' should be a list or a comma-separated string; ignored.")
        return ()
    tags: dict[str, str] = {}  # lowercased: as first written
    for tag in raw:
        tag = " ".join(tag.split()).lstrip("#")
        if tag:
            tags.setdefault(tag.lower(), tag)
    return tuple(tags.values())


def _fm_read_time(value: object, warnings: list[str]) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1000:
        return value
    if isinstance(value, str) and (match := re.match(r"\s*(\d{1,3})\b", value)) and int(match.group(1)):
        return int(match.group(1))
    if value is not None:
        warnings.append(f"Front matter read_time {str(value)[:20]!r} is not a number of minutes; ignored.")
    return None


def apply_front_matter(meta: dict, article: Article) -> Quote | None:
    warnings = article.warnings
    unknown = [repr(str(key)[:40]) for key in meta if str(key) not in FRONT_MATTER_KEYS]
    if len(unknown) == 1:
        warnings.append(f"Unknown front matter key {unknown[0]} ignored.")
    elif unknown:
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        warnings.append(f"Unknown front matter keys {', '.join(unknown[:5])}{more} ignored.")
    article.title = _fm_text(meta, "title", warnings)
    article.date = _fm_date(meta.get("date"), warnings)
    author = meta.get("author")
    if isinstance(author, dict):
        for key in author:
            if key not in ("name", "bio"):
                warnings.append(f"Unknown front matter key {'author.' + str(key)[:30]!r} ignored.")
        article.author = _fm_text(author, "name", warnings)
        article.author_bio = _fm_text(author, "bio", warnings)
    elif isinstance(author, list):
        article.author = ", ".join(" ".join(a.split()) for a in author if isinstance(a, str))
    else:
        article.author = _fm_text(meta, "author", warnings)
    article.author_bio = _fm_text(meta, "author_bio", warnings) or article.author_bio
    for key in ("excerpt", "description", "summary"):
        if meta.get(key):
            article.excerpt = _fm_text(meta, key, warnings)
            break
    article.disclaimer = _fm_text(meta, "disclaimer", warnings)
    article.read_time = _fm_read_time(meta.get("read_time"), warnings)
    article.tags = _fm_tags(meta.get("tags"), warnings)
    url = _fm_text(meta, "url", warnings)
    if url:
        article.url = safe_link(url)
        if not article.url or article.url.startswith("mailto:"):
            article.url = ""
            warnings.append(f"Front matter url {url[:60]!r} is not an absolute http(s) URL; ignored.")
    image = _fm_text(meta, "image", warnings)
    if image:
        article.image = safe_image(image, article.url)
        if not article.image:
            warnings.append(f"Dropped image {image[:60]!r}: not an absolute http(s) URL"
                            + (" and the article has no url." if not article.url else "."))
    article.image_alt = _fm_text(meta, "image_alt", warnings)
    quote = meta.get("quote")
    if isinstance(quote, dict):
        text, by = _fm_text(quote, "text", warnings), _fm_text(quote, "by", warnings)
    else:
        text, by = _fm_text(meta, "quote", warnings), ""
    by = _fm_text(meta, "quote_by", warnings) or by
    if text:
        return Quote(strip_quotes(text) or text, by.lstrip("—–- "))
    return None
