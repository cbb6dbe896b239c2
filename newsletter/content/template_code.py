"""Template code left in an article (``{{ x }}``, ``{% if %}``, ``<?php ... ?>``): finding and dropping it."""
from __future__ import annotations

import re

#: One span of template code of any of the usual engines (Jinja/Liquid, PHP, ERB/ASP).
TEMPLATE_SPAN = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<\?(?:php|=)?.*?\?>|<%.*?%>", re.S)
#: A PHP block, up to its ``?>`` or the end of the text.
PHP_BLOCK = re.compile(r"<\?php\b.*?(?:\?>|\Z)", re.S)
#: PHP blocks longer than this are left alone (shown as text): too much to drop silently.
_PHP_DROP_MAX = 2000


def template_only(line: str) -> bool:
    """A line made of template code only (``{{ x }}``, ``{% if %}``, ``<?php ?>``, a stray ``?>``)."""
    stripped = line.strip()
    if stripped in ("?>", "<?php", "<?", "%>"):
        return True
    rest = TEMPLATE_SPAN.sub("", stripped)
    return rest != stripped and not re.sub(r"[\W_]", "", rest)


def drop_php_blocks(text: str) -> tuple[str, list[str]]:
    """``text`` without its PHP blocks (each replaced by as many line breaks) and the blocks dropped.

    A block over 2,000 characters is kept as it is.
    """
    dropped: list[str] = []

    def drop(match: re.Match) -> str:
        if len(match.group()) > _PHP_DROP_MAX:
            return match.group()
        dropped.append(match.group())
        return "\n" * match.group().count("\n")

    return PHP_BLOCK.sub(drop, text), dropped
