"""What the preview page shows: one rendered issue as a sample subscriber would get it."""
from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.utils import parseaddr

from ..check import GMAIL_CLIP, Finding, check_composed
from ..compose import RenderedIssue
from ..config import Config
from . import darkmode

FRAME_HEAD = '<base target="_blank">'


@dataclass
class Preview:
    from_name: str
    from_address: str
    subject: str
    preheader: str
    html: str
    text: str
    raw: bytes
    findings: list[Finding] = field(default_factory=list)

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))

    @property
    def clip_percent(self) -> int:
        return min(100, round(100 * self.html_bytes / GMAIL_CLIP))

    @property
    def clipped(self) -> bool:
        return self.html_bytes > GMAIL_CLIP

    @property
    def raw_bytes(self) -> int:
        return len(self.raw)

    @property
    def frame_html(self) -> str:
        """The HTML for the (sandboxed) preview frame: links open in a new tab."""
        return darkmode.inject_head(self.html, FRAME_HEAD)

    @property
    def dark_styles(self) -> bool:
        return darkmode.has_dark_rules(self.html)

    @property
    def dark_html(self) -> str:
        return darkmode.dark_view(self.frame_html)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")


def build(config: Config, rendered: RenderedIssue, issue_id: int | None = None) -> Preview:
    """The sample subscriber's copy of ``rendered``, read back from the very bytes sent."""
    from .. import mail

    raw = mail.sample_message(rendered, config, issue_id)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    name, address = parseaddr(str(message["From"]))
    return Preview(
        from_name=name or address,
        from_address=address,
        subject=str(message["Subject"]),
        preheader=rendered.preheader,
        html=message.get_body(("html",)).get_content(),
        text=message.get_body(("plain",)).get_content(),
        raw=raw,
        findings=check_composed(raw, config),
    )
