"""Email that comes in from outside (a bounce, a message to check) read into a Message.

Python's email parser recurses once per level of nested MIME parts, so a small message of a few
thousand nested multiparts would end it with RecursionError: :func:`read_message` turns that
into an :class:`InputError` saying what is wrong with the message, like any other unreadable
input.
"""
from __future__ import annotations

import email
from email.message import Message
from email.policy import Policy, compat32

from .errors import InputError


def read_message(raw: bytes, policy: Policy = compat32) -> Message:
    """The message ``raw`` holds; InputError when its parts are nested too deeply to read."""
    try:
        return email.message_from_bytes(raw, policy=policy)
    except RecursionError:
        raise InputError("MIME parts nested too deeply to read the message") from None
