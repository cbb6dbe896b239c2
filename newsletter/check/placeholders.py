"""Placeholders that must never reach subscribers: the built-in sample sender and postal
address, and a ``base_url`` on this machine. They are fine with the outbox backend (nothing
leaves the machine); with the SMTP backend on, the checker reports each as an error and
``send``, ``send-due`` and "Send now" refuse to send (:func:`refuse_placeholders`)."""
from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

from ..config import DEFAULTS, Config, is_loopback
from ..errors import ConfigError
from .findings import Finding


def placeholder_problems(config: Config) -> list[str]:
    """One line per placeholder still in place while the SMTP backend is on."""
    if config["smtp"]["backend"] != "smtp":
        return []
    settings, defaults = config["newsletter"], DEFAULTS["newsletter"]
    problems = []
    if parseaddr(settings["sender"])[1].lower() == parseaddr(defaults["sender"])[1]:
        problems.append(f"newsletter.sender is still the built-in {parseaddr(defaults['sender'])[1]}:"
                        " set the address you send from")
    if " ".join(settings["postal_address"].split()) == defaults["postal_address"]:
        problems.append("newsletter.postal_address is still the sample address: set your real"
                        " postal address (the law asks for it in every message)")
    if is_loopback(urlsplit(config.base_url).hostname or ""):
        problems.append(f"newsletter.base_url is {config.base_url}: links in the email would point"
                        " at each reader's own computer; set the public address of this app")
    return problems


def check_placeholders(config: Config) -> list[Finding]:
    """Each placeholder problem as an error finding (rule ``placeholder``)."""
    return [Finding("error", "placeholder", problem) for problem in placeholder_problems(config)]


def refuse_placeholders(config: Config) -> None:
    """ConfigError (exit 2, one line) when a placeholder would go out; nothing when none."""
    problems = placeholder_problems(config)
    if problems:
        raise ConfigError("not sending: " + "; ".join(problems))
