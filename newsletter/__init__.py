"""newsletter: turn articles into an email-safe newsletter, preview it, and mail it."""
from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    # The app factory is imported on first use, so the command line starts without Flask.
    if name == "create_app":
        from .web import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
