"""A finding (one problem the checker reports) and the one order findings are shown in."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Finding:
    """One problem: ``severity`` "error" or "warning", a stable ``rule`` name and a plain
    ``message`` saying what breaks and what to do."""

    severity: str
    rule: str
    message: str

    def line(self) -> str:
        """The finding as the command line prints it: ``severity  rule  message``."""
        return f"{self.severity}  {self.rule}  {self.message}"

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, each group in the order the findings were made."""
    return sorted(findings, key=lambda finding: finding.severity != "error")


def report(findings: Iterable[Finding]) -> list[Finding]:
    """What a check returns: each finding once, in :func:`sort_findings` order."""
    return sort_findings(dict.fromkeys(findings))
