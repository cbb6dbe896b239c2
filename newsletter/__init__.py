"""newsletter: turn articles into an email-safe newsletter, preview it, and mail it."""
from .web import create_app

__all__ = ["create_app"]
