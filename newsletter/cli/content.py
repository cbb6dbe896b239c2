"""``articles`` and ``compose``: read articles and write the email they make."""
from __future__ import annotations

from . import cli  # noqa: F401  (commands are added by the compose work)
