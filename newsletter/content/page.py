"""The copied-web-page reader: plain text as selected and copied from a browser.

The page's furniture (menus, share buttons, counters, widgets, related links, the author box)
is recognised by :mod:`.page_patterns` and dropped or used: the title and its metadata lines
(date, read time, byline) are read from the top, the Author block from the tail. Pure: no I/O.
"""
from __future__ import annotations

import re

from ..errors import ContentError
from .model import Article, Block, block_text
from .page_lines import (
    MAX_LINES,
    Unit,
    clean_name,
    clean_title,
    is_dek_under_title,
    is_headline_like,
    is_junk,
    is_label_like,
    is_nav,
    is_prose,
    line_metadata,
    looks_like_heading,
    quotation_line,
    split_units,
)
from .page_patterns import (
    AUTHOR_MARK,
    BIO_JUNK,
    BULLET,
    BYLINE,
    CREDIT,
    DISCLAIMER,
    END,
    KEY_POINTS,
    NUMBERED,
    PAYWALL,
    PRICE_AS_OF,
    PUNCTUATION_ONLY,
    QUOTE_FIGURE,
    QUOTE_LABEL,
    ROLE,
    RULE,
    STRONG_ATTRIBUTION,
    TICKER,
    WEAK_ATTRIBUTION,
    WRITTEN_BY,
)
from .sanitize import safe_link
from .template_code import drop_php_blocks, first_template_span, template_only
from .text import looks_like_name, plain_inline, sentences, snippet, title_from_name, unquoted


def parse_page(text: str, article: Article, where: str, name: str) -> None:
    """Fill ``article`` from a copied page's text: header (title, metadata), standfirst and
    disclaimer, body blocks, and the Author block of the tail. ``where`` names the file in errors."""
    warnings = article.warnings
    notes: list[str] = []  # warnings about the article's own text (not its discarded tail)
    if "<?php" in text:
        text, dropped_php = drop_php_blocks(text)
        notes.extend(f"Dropped template code ({' '.join(block.split())[:40]})." for block in dropped_php)
    units, cut = split_units(text)
    if cut:
        notes.append(f"The page is too long to read whole: it was cut after {MAX_LINES:,} lines.")
    units = _drop_quote_widgets(units, notes)
    pos, header = _page_header(units, article, notes, name, where)
    end, tail = _page_end(units, pos)
    body_units = units[pos:end]
    if body_units and not article.excerpt:
        pos = _standfirst(body_units, article)
        body_units = body_units[pos:]
    if not article.disclaimer:
        for index, unit in enumerate(body_units):
            if (index < 3 or index >= len(body_units) - 2) and len(unit.text) <= 400 \
                    and DISCLAIMER.search(unit.text) and not looks_like_heading(unit.text, "x"):
                article.disclaimer = unit.text
                del body_units[index]
                break
    article.blocks = _page_blocks(body_units, notes)
    _page_tail(tail, article, notes)
    dropped = [n for n in notes if n.startswith("Dropped template code (")]
    if len(dropped) > 1:
        notes = [n for n in notes if not n.startswith("Dropped template code (")]
        notes.append(dropped[0][:-2] + f" and {len(dropped) - 1} more).")
    known = set(warnings)
    warnings.extend(dict.fromkeys(n for n in notes if n not in known))
    if header.get("date_note") and article.date:
        warnings.append(header["date_note"])


def _drop_quote_widgets(units: list[Unit], notes: list[str]) -> list[Unit]:
    """Units without stock-quote widgets (``NASDAQ: PEP``, ``Market Cap: $200B``, ``Volume``...).

    A widget is a run of ticker, quote-label and figure lines with at least two ticker or label
    lines (the company name may follow the ticker) that does not end on a bare label; one such
    line alone is left as it is. A run that is no widget is kept whole: a run starting inside it
    would end where it ends, with no more ticker or label lines, so it is no widget either (and
    each line is looked at once, not once per line above it).
    """
    kept: list[Unit] = []
    dropped: list[str] = []
    index = 0
    while index < len(units):
        run_end, end, strong = _widget_run(units, index)
        if strong >= 2:
            dropped += [u.text for u in units[index:end]]
            index = end
        else:
            stop = max(run_end, index + 1)
            kept.extend(units[index:stop])
            index = stop
    if dropped:
        notes.append(f"Dropped stock-quote widget lines ({snippet(', '.join(dropped), 50)[1:-1]}).")
    return kept


def _widget_run(units: list[Unit], index: int) -> tuple[int, int, int]:
    """The run of widget-like lines from ``index``: (where it ends, where it ends without the bare
    labels closing it, how many ticker or label lines that leaves)."""
    end = index
    strong = 0
    while end < len(units):
        text = units[end].text
        if TICKER.match(text) or QUOTE_LABEL.match(text):
            strong += 1
        elif not (end > index and (QUOTE_FIGURE.match(text) or PRICE_AS_OF.match(text) or (
                TICKER.match(units[end - 1].text) and looks_like_name(text, 1, 4)))):
            break
        end += 1
    run_end = end
    while end > index + 1 and QUOTE_LABEL.match(units[end - 1].text) \
            and not re.search(r"\d", units[end - 1].text):
        end -= 1  # a label with no figure under it ends no widget: it is a heading
        strong -= 1
    return run_end, end, strong


def _page_header(units: list[Unit], article: Article, notes: list[str], name: str,
                 where: str) -> tuple[int, dict]:
    """Read the title and metadata lines; returns (index of the first body unit, metadata)."""
    meta: dict = {}
    pos = _title_position(units, article, notes, meta)
    if pos >= len(units):
        raise ContentError(f"{where}: no title found (only page furniture and metadata)")
    title = units[pos].text
    if is_prose(title):
        article.title = _title_from_name_or_text(article, name, title)
    else:
        article.title = clean_title(title, notes)
        pos += 1
    pos = _lines_under_title(units, pos, article, notes, meta)
    article.date = meta.get("date")
    article.read_time = meta.get("read_time")
    article.author = meta.get("author", "")
    return pos, meta


def _merge_metadata(meta: dict, found: dict) -> None:
    """Add a header line's metadata; the first value of each key wins."""
    for key, value in found.items():
        if key not in meta or (key == "date_note" and "date" not in meta):
            meta[key] = value


def _title_position(units: list[Unit], article: Article, notes: list[str], meta: dict) -> int:
    """Index of the title line: past the furniture, metadata and URL lines above it."""
    anchor = _title_anchor(units)
    pos = 0
    while pos < len(units):
        text = units[pos].text
        if (found := line_metadata(text)) is not None:
            _merge_metadata(meta, found)
        elif re.fullmatch(r"https?://\S+", text) and safe_link(text):
            article.url = article.url or text
        elif template_only(text):
            notes.append(f"Dropped template code ({text[:40]}).")
        elif pos >= anchor and not (is_nav(text) or is_junk(text) or RULE.match(text)
                                    or END.match(text) or BULLET.match(text)):
            break
        pos += 1
    return pos


def _lines_under_title(units: list[Unit], pos: int, article: Article, notes: list[str],
                       meta: dict) -> int:
    """Read the subtitle, byline, metadata and disclaimer lines from ``pos``; returns where the
    body starts."""
    subtitle = None
    while pos < len(units):
        text = units[pos].text
        following = units[pos + 1].text if pos + 1 < len(units) else ""
        if (found := line_metadata(text)) is not None:
            _merge_metadata(meta, found)
        elif is_nav(text) and len(text.split()) <= 3 or is_junk(text) or PUNCTUATION_ONLY.fullmatch(text) \
                or CREDIT.match(text) or "author" in meta and ROLE.match(text):
            pass  # menu words, "Share", counters, a lone "·" or "--" between metadata lines
        elif template_only(text):
            notes.append(f"Dropped template code ({text[:40]}).")
        elif "author" not in meta and looks_like_name(text, 2, 4) and (
                line_metadata(following) or is_junk(following) or ROLE.match(following)):
            meta["author"] = text
        elif subtitle is None and "date" not in meta and "read_time" not in meta \
                and not BULLET.match(text) and (line_metadata(following) is not None or (
                    looks_like_name(following, 2, 4) and pos + 2 < len(units)
                    and (line_metadata(units[pos + 2].text) is not None or is_junk(units[pos + 2].text)))):
            subtitle = text
        elif not article.disclaimer and DISCLAIMER.search(text) and len(text) <= 400:
            article.disclaimer = text
        else:
            break
        pos += 1
    if subtitle:
        article.excerpt = subtitle
    return pos


def _title_anchor(units: list[Unit]) -> int:
    """Where the title is when metadata lines (date, read time, byline) follow it closely.

    Everything above that title is page furniture (menus, section labels). A prose line just
    above the metadata is a subtitle, so the title is the short line above it; a section label
    just above a date line means the headline is under the date line. Without such metadata near
    the top, the title is found by :func:`_headline_anchor`.
    """
    for index, unit in enumerate(units[:10]):
        if line_metadata(unit.text) is not None and index > 0:
            above = index - 1
            while above > 0 and (is_prose(units[above].text) or is_junk(units[above].text)
                                 or template_only(units[above].text) or (
                    looks_like_name(units[above].text, 2, 4) and not is_nav(units[above - 1].text)
                    and not is_junk(units[above - 1].text))):
                above -= 1  # subtitle, "Follow", author name: the title is above them
            if above > 0 and is_dek_under_title(units[above].text, units[above - 1].text):
                above -= 1
            if is_prose(units[above].text) or line_metadata(units[above].text):
                return 0
            if is_label_like(units[above].text) and "author" not in line_metadata(unit.text) \
                    and index + 1 < len(units) and is_headline_like(units[index + 1].text):
                return index + 1  # a section label over a date line, and the headline under it
            return above
    return _headline_anchor(units)


#: How far down (in units) the headline of a page without metadata lines is looked for.
HEADLINE_WINDOW = 8


def _headline_anchor(units: list[Unit]) -> int:
    """The most headline-like line near the top, for a page whose title no metadata line marks.

    Before the first prose line, page furniture is passed over: menus, a site banner in
    capitals, section labels (one or two words) and date lines; the headline is the first
    line of at least three words that is none of these. Returns 0 when there is no such line
    (then the first line that is not a menu is the title).
    """
    for index, unit in enumerate(units[:HEADLINE_WINDOW]):
        text = unit.text
        if is_headline_like(text):
            return index
        if not (is_nav(text) or is_junk(text) or line_metadata(text) is not None or RULE.match(text)
                or template_only(text) or is_label_like(text)):
            return 0  # prose, a list, a sentence: the page starts without furniture
    return 0


def _title_from_name_or_text(article: Article, name: str, text: str) -> str:
    try:
        return title_from_name(article, name, "")
    except ContentError:
        article.warnings.append("No title line found; title guessed from the opening sentence.")
        first = sentences(text)[0].rstrip(".")
        return first if len(first) <= 90 else first[:89].rsplit(" ", 1)[0] + "…"


def _standfirst(units: list[Unit], article: Article) -> int:
    """Take the standfirst: a first paragraph followed by a disclaimer line. Returns units used."""
    first = units[0].text
    if len(units) > 1 and DISCLAIMER.search(units[1].text) and len(units[1].text) <= 400 \
            and not looks_like_heading(first, units[1].text) and not BULLET.match(first) \
            and quotation_line(first) is None and len(first) <= 600:
        article.excerpt = first
        if not article.disclaimer:
            article.disclaimer = units[1].text
            return 2
        return 1
    return 0


def _page_end(units: list[Unit], start: int) -> tuple[int, list[Unit]]:
    """Where the body ends (an Author block, Related Articles, a paywall...) and the tail."""
    for index in range(start, len(units)):
        text = units[index].text
        if index > start and (END.match(text) or AUTHOR_MARK.match(text) or PAYWALL.match(text)
                              or WRITTEN_BY.match(text) and clean_name(text.split(None, 2)[2])):
            return index, units[index:]
    return len(units), []


def _page_blocks(units: list[Unit], notes: list[str]) -> list[Block]:
    """The body's blocks (see :func:`_read_block`), without trailing headings or rules."""
    blocks: list[Block] = []
    junk = [is_junk(unit.text) for unit in units]
    following = _next_texts(units, junk)
    index = 0
    while index < len(units):
        index = _read_block(units, index, following[index], junk[index], blocks, notes)
    for text in (block_text(b) for b in blocks):
        if span := first_template_span(text):
            notes.append(f"Template code {snippet(span, 30)} left in the text, shown as is.")
            break
    while blocks and blocks[-1].kind in ("heading", "rule"):
        blocks.pop()  # a heading with nothing under it is page furniture
    _note_cut_off(blocks, notes)
    return blocks


def _next_texts(units: list[Unit], junk: list[bool]) -> list[str | None]:
    """For each unit, the text of the next one that is not junk (None after the last)."""
    following: list[str | None] = [None] * len(units)
    for index in range(len(units) - 1, 0, -1):
        following[index - 1] = following[index] if junk[index] else units[index].text
    return following


def _read_block(units: list[Unit], index: int, following: str | None, junk: bool,
                blocks: list[Block], notes: list[str]) -> int:
    """Turn the line at ``index`` (and the list items after it) into a block added to ``blocks``
    (or nothing, for furniture: ``junk`` says if it is junk); ``following`` is the next line
    that is not junk. Returns the index of the next line to read."""
    count = len(units)
    text = units[index].text
    index += 1
    if template_only(text):
        notes.append(f"Dropped template code ({text[:40]}).")
    elif junk or PUNCTUATION_ONLY.fullmatch(text):
        pass
    elif RULE.match(text):
        blocks.append(Block("rule"))
    elif cite := _attribution(text, blocks, following):
        prev = blocks.pop()
        blocks.append(Block("quote", unquoted(prev.content), cite=cite))
    elif item := BULLET.match(text):
        items = [plain_inline(item.group(1))]
        while index < count and (item := BULLET.match(units[index].text)):
            items.append(plain_inline(item.group(1)))
            index += 1
        blocks.append(Block("list", items=tuple(items)))
    elif NUMBERED.match(text) and index < count and NUMBERED.match(units[index].text):
        items = [plain_inline(NUMBERED.match(text).group(2))]
        while index < count and (item := NUMBERED.match(units[index].text)):
            items.append(plain_inline(item.group(2)))
            index += 1
        blocks.append(Block("list", items=tuple(items), ordered=True))
    elif quoted := quotation_line(text):
        inner, by, closed = quoted
        if not closed:
            notes.append(f"A quotation opens and never closes: {snippet(text)}")
        blocks.append(Block("quote", plain_inline(inner), cite=by))
    elif KEY_POINTS.match(text):
        items, index = _key_points(units, index)
        if items:
            blocks.append(Block("list", items=tuple(plain_inline(t) for t in items)))
        else:
            notes.append(f"Dropped a “{text}” label with no points under it.")
    elif looks_like_heading(text, following):
        blocks.append(Block("heading", plain_inline(text)))
    else:
        blocks.append(Block("paragraph", plain_inline(text)))
    return index


def _note_cut_off(blocks: list[Block], notes: list[str]) -> None:
    """Warn when the last block is a paragraph that stops mid-sentence or on "…"."""
    last = next((b for b in reversed(blocks) if b.kind == "paragraph"), None)
    if last is not None and last is blocks[-1]:
        words = last.content.text.split()
        if len(words) >= 6 and last.content.text[-1] not in ".!?…\"”’)»:":
            notes.append(f"The text seems cut off mid-sentence: …{' '.join(words[-6:])}")
        elif last.content.text.endswith(("...", "…")) and len(words) >= 6:
            notes.append("The text ends with “…”; it may be truncated.")


def _key_points(units: list[Unit], start: int) -> tuple[list[str], int]:
    """The short lines under a bullet-less "Key Points" label at ``units[start - 1]`` and the
    index after them: lines set tight under it end at the first blank line (at most 5); lines
    with blank lines between them are the three a "Key Points" box holds."""
    tight = not units[start - 1].gap_after
    items: list[str] = []
    index = start
    while index < len(units) and len(items) < (5 if tight else 3):
        text = units[index].text
        text = bullet.group(1) if (bullet := BULLET.match(text)) else text
        if len(text) > 220 or len(text.split()) > 35 or text.endswith(":") or is_junk(text):
            break
        items.append(text)
        index += 1
        if tight and units[index - 1].gap_after:
            break
    return items, index


def _attribution(text: str, blocks: list[Block], following: str | None) -> str:
    """The name in a ``— Name`` line that attributes the paragraph or quote just before it."""
    match = STRONG_ATTRIBUTION.match(text)
    if not match and (weak := WEAK_ATTRIBUTION.match(text)):
        if not (following and WEAK_ATTRIBUTION.match(following)) and blocks and blocks[-1].content \
                and blocks[-1].content.text[-1:] in ".!?”\"’":
            match = weak
    if not match or not blocks or blocks[-1].kind not in ("paragraph", "quote") or blocks[-1].cite:
        return ""
    name = match.group(1).strip()
    if len(blocks[-1].content.text) > 400 or not looks_like_name(name.split(",")[0].strip(), 1, 6):
        return ""
    return name


def _page_tail(tail: list[Unit], article: Article, notes: list[str]) -> None:
    """The Author block (name, bio) and paywall markers after the body; the rest is debris."""
    if tail and PAYWALL.match(tail[0].text):
        notes.append("The text stops at a “continue reading” / subscribers-only marker; it is truncated.")
    for index, unit in enumerate(tail):
        by = BYLINE.match(unit.text)
        if AUTHOR_MARK.match(unit.text) or (by and clean_name(by.group(1))):
            name = clean_name(by.group(1)) if by else ""
            bio: list[str] = []
            for nxt in tail[index + 1:]:
                text = nxt.text
                if END.match(text) or AUTHOR_MARK.match(text) or template_only(text):
                    break
                if is_junk(text) or BIO_JUNK.match(text):
                    continue
                if not name and not bio and looks_like_name(text, 2, 5):
                    name = text
                    continue
                bio.append(text)
                if len(bio) == 2:
                    break
            if bio and not name:
                lead = re.match(r"^((?:[A-Z][\w'’.-]*\s+){1,3}[A-Z][\w'’-]*)\s+(?=[a-z])", bio[0])
                name = lead.group(1) if lead and looks_like_name(lead.group(1), 2, 4) else ""
            if name and not article.author:
                article.author = name
            if bio and not article.author_bio:
                article.author_bio = " ".join(bio)
            return
