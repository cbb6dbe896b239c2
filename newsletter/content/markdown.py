"""The Markdown reader: front matter, then CommonMark (raw HTML allowed, then sanitized).

CommonMark is rendered by pulldown-cmark (``pyromark``): compiled, and linear in time on any
input; the pure-Python markdown-it took 7 to 20 seconds on a 1 MB file of unmatched brackets or
emphasis marks. Pure: no I/O.
"""
from __future__ import annotations

import re
from dataclasses import replace

import pyromark

from .frontmatter import apply_front_matter, read_front_matter
from .markdown_source import prepare
from .model import Article, Block, Inline
from .sanitize import Piece, html_to_pieces
from .template_code import first_template_span
from .text import OPENERS, looks_like_name, snippet, split_cite, strip_quotes, title_from_name, unquoted


def parse_markdown(text: str, article: Article, where: str, name: str) -> None:
    """Fill ``article`` from Markdown ``text`` (front matter, then the body tidied by
    :func:`.markdown_source.prepare`, rendered and sanitized)."""
    meta, body, _ = read_front_matter(text, where, article.warnings)
    quote = apply_front_matter(meta, article) if meta else None
    body = prepare(body, article.warnings)
    if span := first_template_span(body):
        article.warnings.append(f"Template code {snippet(span, 30)} left in the text, shown as is.")
    pieces, notes = html_to_pieces(pyromark.html(body), article.url)
    article.warnings.extend(notes)
    blocks = [_block_of(p) for p in pieces]
    blocks = _attributions(blocks)
    if not article.title:
        article.title, blocks = _markdown_title(blocks, article, name, where)
    elif blocks and blocks[0].kind == "heading" and _same_text(blocks[0].content.text, article.title):
        blocks = blocks[1:]
    article.title = " ".join(article.title.split())
    article.blocks = [replace(b, level=min(max(b.level, 2), 4)) if b.kind == "heading" else b for b in blocks]
    article.quote = quote


def _block_of(piece: Piece) -> Block:
    if piece.kind == "heading":
        return Block("heading", Inline(piece.text, piece.html), level=min(max(piece.level, 1), 6))
    if piece.kind == "list":
        return Block("list", items=tuple(Inline(t, h) for t, h in piece.items), ordered=piece.ordered)
    if piece.kind == "quote":
        content = Inline(piece.text, piece.html)
        if not piece.cite and (split := split_cite(content, strict=False)):
            content, cite = split
            return Block("quote", content, cite=cite)
        return Block("quote", unquoted(content), cite=piece.cite)
    if piece.kind == "image":
        return Block("image", src=piece.src, alt=piece.alt)
    if piece.kind == "rule":
        return Block("rule")
    return Block("paragraph", Inline(piece.text, piece.html))


def _attributions(blocks: list[Block]) -> list[Block]:
    """Quotations followed by ``— Name`` (same paragraph or the next) become cited quote blocks."""
    out: list[Block] = []
    for block in blocks:
        text = block.content.text.strip() if block.content else ""
        match = re.match(r"^(?:—|―|--)\s*(\S.{0,70})$", text)
        if (match and out and out[-1].kind in ("paragraph", "quote") and not out[-1].cite
                and len(out[-1].content.text) <= 400 and looks_like_name(match.group(1).split(",")[0], 1, 6)):
            prev = out.pop()
            out.append(Block("quote", unquoted(prev.content), cite=match.group(1).strip()))
            continue
        if block.kind == "paragraph" and block.content and len(text) <= 400:
            split = split_cite(block.content)
            if split and (strip_quotes(split[0].text) is not None or text[0] in OPENERS
                          or re.search(r"\n\s*(?:—|―|--)", block.content.text) or block is blocks[-1]):
                out.append(Block("quote", split[0], cite=split[1]))
                continue
        out.append(block)
    return out


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _markdown_title(blocks: list[Block], article: Article, name: str, where: str) -> tuple[str, list[Block]]:
    for index, block in enumerate(blocks):
        if block.kind == "heading" and block.level == 1:
            return block.content.text, blocks[:index] + blocks[index + 1:]
    if blocks and blocks[0].kind == "heading":
        article.warnings.append("No title in the front matter or a # heading; used the first heading.")
        return blocks[0].content.text, blocks[1:]
    if blocks and blocks[0].kind == "paragraph" and len(blocks[0].content.text) <= 120 \
            and "\n" not in blocks[0].content.text and len(blocks[0].content.text.split()) <= 16:
        article.warnings.append("No title in the front matter or a # heading; title guessed from the first line.")
        return blocks[0].content.text, blocks[1:]
    return title_from_name(article, name, where), blocks
