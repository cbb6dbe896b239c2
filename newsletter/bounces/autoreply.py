"""Auto-replies: vacation and out-of-office messages, to be ignored.

RFC 3834 marks them with ``Auto-Submitted`` (anything but ``no``); older responders use
``X-Autoreply``, ``X-Autorespond``, ``Precedence: auto_reply|bulk|junk`` or only a subject such
as "Out of Office" or "Automatic reply". Checked after the bounce detectors: some MTAs mark
their bounces ``Auto-Submitted`` too.
"""
from __future__ import annotations

import re
from email.message import Message

_FLAGS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Vacation")
_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ _-]?(reply|response|antwort)|auto:|out of (the )?office|away from"
    r"|on vacation|vacation|abwesenheit|absence|r[ée]ponse automatique|respuesta autom[áa]tica"
    r"|risposta automatica|automatisch antwoord|resposta autom[áa]tica)",
    re.I,
)


def auto_reply(msg: Message, subject: str) -> str | None:
    """Why ``msg`` is an auto-reply (the header or subject that says so), or None."""
    submitted = str(msg.get("Auto-Submitted", "")).strip().lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted.split(';')[0]}"
    for name in _FLAGS:
        if msg.get(name) is not None:
            return f"{name} header"
    precedence = str(msg.get("Precedence", "")).strip().lower()
    if precedence in ("auto_reply", "bulk", "junk"):
        return f"Precedence: {precedence}"
    if _SUBJECT.match(subject):
        return f"subject {subject[:60]!r}"
    return None
