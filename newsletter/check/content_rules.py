"""What a newsletter must say, in words: unsubscribe link and postal address in the plain-text
part (the HTML's are :mod:`.html_rules`), and the same words in both parts."""
from __future__ import annotations

import re

from ..compose import TOKENS
from ..config import Config
from .findings import Finding

#: share of words the text and HTML parts must have in common: below WARN a warning, below
#: ERROR an error
SIMILARITY_ERROR, SIMILARITY_WARN = 0.40, 0.60


def words(text: str) -> list[str]:
    """The lowercase words of ``text``, without URLs and the sender's tokens."""
    text = re.sub(r"(?:https?://|mailto:)\S+", " ", text)
    for token in TOKENS.values():
        text = text.replace(token, " ")
    return re.findall(r"\w+", text.lower())


def postal_address_rule(part: str, text: str, config: Config | None) -> list[Finding]:
    """The configured postal address must appear in ``text`` (the ``part`` named in the message).
    Without a config there is nothing to compare with: no finding."""
    if config is None:
        return []
    address = str(config["newsletter"].get("postal_address", "")).strip()
    if not address:
        return [Finding("error", "postal-address",
                        "No postal address is configured (newsletter.postal_address): CAN-SPAM "
                        "requires one in every newsletter.")]
    if not _contains_sequence(words(text), words(address)):
        return [Finding("error", "postal-address",
                        f"The {part} part does not show the postal address ({address}): CAN-SPAM "
                        "requires it in every newsletter.")]
    return []


def text_part_rules(text: str, config: Config | None) -> list[Finding]:
    """The plain-text part's unsubscribe link and postal address."""
    out = []
    lines = text.splitlines()
    has_link = any(
        re.search(r"unsubscribe", line, re.I)
        and re.search(r"https?://\S+", " ".join(lines[i : i + 3]))
        for i, line in enumerate(lines)
    )
    if not has_link:
        out.append(Finding("error", "unsubscribe-link",
                           "The plain-text part has no unsubscribe link (the word 'unsubscribe' "
                           "with an https:// address next to it)."))
    return out + postal_address_rule("plain-text", text, config)


def similarity_rules(html_text: str, text: str) -> list[Finding]:
    """Whether the plain-text part says what the HTML (its visible ``html_text``) says."""
    a, b = set(words(html_text)), set(words(text))
    if not a and not b:
        return []
    score = len(a & b) / len(a | b)
    if score >= SIMILARITY_WARN:
        return []
    only_html = sorted(a - b, key=lambda w: (-len(w), w))[:5]
    only_text = sorted(b - a, key=lambda w: (-len(w), w))[:5]
    severity = "error" if score < SIMILARITY_ERROR else "warning"
    return [Finding(severity, "text-html-mismatch",
                    f"The plain-text part shares only {score:.0%} of its words with the HTML "
                    f"(needs {SIMILARITY_WARN:.0%}): spam filters score messages whose two parts "
                    f"differ. Only in HTML: {', '.join(only_html) or '-'}; only in text: "
                    f"{', '.join(only_text) or '-'}.")]


def _contains_sequence(haystack: list[str], wanted: list[str]) -> bool:
    n = len(wanted)
    return n > 0 and any(haystack[i : i + n] == wanted for i in range(len(haystack) - n + 1))
