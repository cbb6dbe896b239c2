"""Editor pages (all behind the login, see :mod:`newsletter.web.auth`)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("editor", __name__)

# Each page group registers its views on ``bp``.
from . import dashboard, issues, preview, subscribers, test_addresses  # noqa: E402,F401
