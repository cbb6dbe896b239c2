"""Reading CSS: declarations of a style attribute and the rules of a ``<style>`` sheet.

A small brace-matching reader, not a full CSS parser: enough to see at-rules, selectors and
declarations, which is all the client-support rules need.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMENT = re.compile(r"/\*.*?\*/", re.S)
#: at-rules whose block holds further rules (the others hold declarations)
_GROUPING_AT_RULES = ("@media", "@supports", "@document", "@layer", "@container")


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
class StyleRule:
    """A rule of a style sheet: its selector or at-rule prelude and what it holds."""

    prelude: str
    declarations: list[tuple[str, str]] = field(default_factory=list)
    children: list[StyleRule] = field(default_factory=list)


def parse_stylesheet(text: str) -> list[StyleRule]:
    """The rules of a style sheet, at-rules with their nested rules; comments dropped."""
    text = _COMMENT.sub("", text).replace("<!--", "").replace("-->", "")
    rules, _ = _parse_block(text, 0)
    return rules


def at_rule_name(prelude: str) -> str:
    """``@media`` for ``@media (max-width: 600px)``, lowercase; "" for a selector."""
    return prelude.split("(")[0].split()[0].lower() if prelude.startswith("@") else ""


def _parse_block(text: str, i: int) -> tuple[list[StyleRule], int]:
    """The rules from ``text[i]`` to the ``}`` closing the block, and the index after it."""
    rules: list[StyleRule] = []
    start = i
    while i < len(text):
        ch = text[i]
        if ch == "}":
            return rules, i + 1
        if ch == ";" and text[start:i].strip().startswith("@"):  # @import …;
            rules.append(StyleRule(text[start:i].strip()))
            start = i = i + 1
            continue
        if ch == "{":
            prelude = text[start:i].strip()
            name = at_rule_name(prelude)
            if name in _GROUPING_AT_RULES:
                children, i = _parse_block(text, i + 1)
                rules.append(StyleRule(prelude, children=children))
            else:
                end = _matching_brace(text, i)
                rule = StyleRule(prelude)
                if not name.endswith("keyframes"):
                    rule.declarations = parse_declarations(text[i + 1 : end])
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
