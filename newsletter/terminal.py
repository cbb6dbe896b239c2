"""Text bound for a terminal: whatever came from input is shown, never obeyed.

Article titles, subjects, names, addresses and the input quoted in error messages may carry
control characters (a YAML ``"\\e]2;..."`` title, a C1 ``\\x9b`` byte, a right-to-left
override): printed raw, they would retitle the terminal, move the cursor, clear the screen or
reorder the line. :func:`printable` removes them; the command line prints through it.
"""
from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional marks and overrides
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` without control characters (tab and newline stay)."""
    return _CONTROL.sub("", text)
