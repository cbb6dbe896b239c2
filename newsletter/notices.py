"""The emails around subscribing: confirm your address, you are already subscribed, welcome.

Each is rendered by :mod:`compose` in the newsletter's look (``notice.html`` and its text part;
the welcome email is the configured article as a one-article issue) and assembled by
:class:`mail.MessageTemplate`, so headers are checked and the MIME is the same as an issue's
(one-click unsubscribe included: unsubscribing from a confirmation request ends the signup);
it goes out through the configured transport.
"""
from __future__ import annotations

import logging

from . import content, urls
from .compose import TOKENS, RenderedIssue, render_issue, render_notice
from .config import Config
from .errors import NewsletterError
from .mail import MessageTemplate
from .signing import subscriber_signer
from .signup import ALREADY, CONFIRM, WELCOME, Notice
from .transport import DeliveryError, open_transport

log = logging.getLogger(__name__)


def render(config: Config, notice: Notice) -> RenderedIssue:
    """The rendered email a notice stands for (tokens in place for the recipient's links)."""
    name = config["newsletter"]["name"]
    if notice.kind == CONFIRM:
        link = urls.confirm_url(config, subscriber_signer(config, "confirm")(notice.subscriber.key, notice.nonce))
        days = _expiry_words(config)
        return render_notice(
            config,
            subject=f"Confirm your subscription to {name}",
            heading="Please confirm your subscription",
            before=[f"Someone, hopefully you, asked to receive {name} at {notice.subscriber.email}.",
                    "To start receiving it, confirm your address:"],
            button=("Confirm my subscription", link),
            after=[f"The link works once and expires in {days}."],
            footer=f"If you did not ask for {name}, ignore this email: you will not hear from us again.",
        )
    if notice.kind == ALREADY:
        return render_notice(
            config,
            subject=f"You are already subscribed to {name}",
            heading="You are already subscribed",
            before=[f"Someone, hopefully you, asked to subscribe {notice.subscriber.email} to {name}. "
                    "This address is already on the list, so nothing has changed.",
                    "You can change your name, unsubscribe or download your data on your "
                    "preferences page:"],
            button=("Manage my subscription", TOKENS["preferences_url"]),
            footer=f"You are receiving this because you subscribed to {name}.",
        )
    if notice.kind == WELCOME:
        article = content.resolve(config["subscribe"]["welcome"], config.content_dir, allow_paths=False)
        return render_issue([article], config)
    raise ValueError(f"unknown notice {notice.kind!r}")


def _expiry_words(config: Config) -> str:
    """``confirm_expiry`` in words: ``7 days``, ``12 hours``, ``30 minutes``."""
    seconds = int(config.confirm_expiry.total_seconds())
    unit, size = next((u, s) for u, s in (("day", 86400), ("hour", 3600), ("minute", 60))
                      if seconds % s == 0 or s == 60)
    n = max(1, seconds // size)
    return f"{n} {unit}{'s' * (n != 1)}"


def message(config: Config, notice: Notice) -> tuple[str, str, bytes]:
    """(envelope sender, recipient, the whole message) of a notice."""
    template = MessageTemplate(render(config, notice), config)
    sub = notice.subscriber
    return template.envelope_from, sub.email, template.personalize(sub.id, sub.email, sub.name, sub.key)


def send(config: Config, notice: Notice) -> bool:
    """Render and send a notice through the configured transport; False (logged) when it could
    not be sent: the signup's answer never depends on it."""
    try:
        sender, rcpt, data = message(config, notice)
        transport = open_transport(config)
        try:
            transport.send(sender, rcpt, data)
        finally:
            transport.close()
    except (NewsletterError, DeliveryError) as exc:
        log.warning("%s email to subscriber %s not sent: %s", notice.kind, notice.subscriber.id, exc)
        return False
    return True
