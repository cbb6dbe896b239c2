"""Email-safety and deliverability checks: what will break in which mail client, and why.

:func:`check_html` looks at an email's HTML, :func:`check_message` at a whole message (headers,
MIME structure, both parts) and :func:`check_article` at the message an article composes into.
Each returns :class:`Finding` objects, each once, errors first (:func:`sort_findings` is that
order). A finding's ``rule`` is a stable kebab-case name; ``client-<feature>`` rules name
caniemail features (``newsletter/data/caniemail.json``, derived by
``scripts/derive_caniemail.py``).

Severities, rule by rule:

- client support (``client-*``, :mod:`.client_rules`): a warning naming the clients that lack a
  feature; an error only when a client loses content or colours outright (``BREAKS``: images in
  formats it cannot show, inline SVG, video, CSS variables, ``position``, whitespace ``rgb()``
  which Gmail answers by dropping the whole style). Partial support is not reported for the
  features every email relies on (``PARTIAL_OK``: their caveats are edge cases such as negative
  margins), and a client is not named when the email carries a known fallback for it
  (``FALLBACKS``). ``@media`` rules of an email whose base styles are inline are progressive
  enhancement and never reported.
- size (:mod:`.html_rules`): ``gmail-clipping`` warns from 80 KB of HTML and is an error from
  102 KB (:data:`GMAIL_CLIP`: Gmail cuts the message there); ``style-too-large``: a ``<style>``
  block over 16 KB, which Gmail drops.
- structure (:mod:`.html_rules`): errors for what breaks display or safety (``doctype``,
  ``charset``, ``image-alt``, relative ``image-url``/``link-url``, ``javascript-link``,
  ``forbidden-element``, ``content-width`` over 640 px); warnings for ``viewport``,
  ``html-lang``, ``table-role``, ``image-width``, ``image-url`` over http and a layout narrower
  than 600 px.
- message (:mod:`.message`): every rule is an error (``multipart-alternative``,
  ``required-header``, ``date``, ``message-id``, ``from-address``, ``list-unsubscribe``,
  ``list-unsubscribe-post``, ``line-length``, ``header-newline``) except an unsubscribe URL over
  http (a warning, as in development).
- content (:mod:`.content_rules`, :mod:`.html_rules`): ``text-html-mismatch`` (error under 40 %
  shared words, warning under 60 %), ``unsubscribe-link``, ``postal-address`` and ``contrast``
  (:mod:`.contrast`, WCAG AA) are errors; ``base-url-https`` (:mod:`.article`) warns.
"""
from __future__ import annotations

from .article import check_article, check_base_url, check_composed
from .contrast import contrast_ratio, luminance, parse_color
from .findings import Finding, sort_findings
from .html_rules import GMAIL_CLIP, check_html
from .message import check_message
from .support import support_data

__all__ = [
    "GMAIL_CLIP", "Finding", "check_article", "check_base_url", "check_composed", "check_html",
    "check_message", "contrast_ratio", "luminance", "parse_color", "sort_findings",
    "support_data",
]
