"""``send`` and ``send-test``: mail an issue to the subscribers, or a test copy to a few addresses."""
from __future__ import annotations

import sys
import time

import click

from .. import delivery, issues, testcopy, testers
from ..content import resolve
from ..errors import InputError
from ..subscribers import normalize_email
from .context import current_config, current_db
from .output import echo


class Progress:
    """A progress bar on a terminal (count, rate, time left); a few plain lines otherwise."""

    def __init__(self, issue_id: int, stream=None):
        self.issue_id = issue_id
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.next_line = 0.25
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        if self.tty:
            if now - self.last_draw < 0.1 and done < total:
                return
            self.last_draw = now
            width = 30
            filled = int(width * done / total) if total else width
            left = (total - done) / rate if rate else 0
            self.stream.write(
                f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total}  {rate:.0f} msg/s  "
                f"{int(left) // 60}:{int(left) % 60:02d} left "
            )
            self.stream.flush()
            self.drawn = True
        elif total and done / total >= self.next_line and done < total:
            echo(f"issue {self.issue_id}: {done}/{total} done, {rate:.0f} msg/s")
            self.next_line += 0.25

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


@click.command()
@click.argument("issue_id", type=int)
@click.option("--dry-run", is_flag=True, help="Show who would get what; send nothing.")
@click.option("--retry-unknown", is_flag=True,
              help="Also resend deliveries left 'unknown' by a crash (they may get a second copy).")
@click.pass_context
def send(ctx: click.Context, issue_id: int, dry_run: bool, retry_unknown: bool) -> None:
    """Send issue ID to every active subscriber who has not got it yet.

    Safe to rerun: it resumes after a crash. A delivery caught in flight by a crash becomes
    'unknown' and is not resent unless --retry-unknown says so. Exit status: 0 done, 1 some
    deliveries failed, the send paused or another send is running, 2 bad input, 3 the mail
    server could not be reached or refused login (nothing marked sent; rerun to resume).
    """
    config = current_config()
    conn = current_db()
    if dry_run:
        plan = delivery.dry_run(conn, config, issue_id, retry_unknown=retry_unknown)
        echo(f"issue {issue_id}: would send {plan.count} message(s), subject: {plan.subject}")
        for address in plan.first:
            echo(f"  {address}")
        if plan.count > len(plan.first):
            echo(f"  … and {plan.count - len(plan.first)} more")
        if plan.later:
            echo(f"  ({plan.later} deferred deliveries are not due yet)")
        return
    with delivery.sender_lock(config, conn):
        recovered = delivery.recover_in_flight(conn)
        if recovered:
            echo(f"{recovered} delivery(ies) caught in flight by an earlier crash are now "
                       "'unknown' (resend with --retry-unknown)", err=True)
        progress = Progress(issue_id)
        try:
            report = delivery.send_issue(conn, config, issue_id, retry_unknown=retry_unknown, progress=progress)
        finally:
            progress.close()
    echo(report.summary())
    for error in report.errors:
        echo(f"  subscriber {error}", err=True)
    if report.deferred:
        echo(f"{report.deferred} deferred for a later attempt (send again or let send-due retry)", err=True)
    if report.paused:
        echo(f"issue {issue_id}: {report.reason}; the rest is still pending", err=True)
    ctx.exit(report.exit_code)


def _addresses(value: str, special_use: bool) -> list[str]:
    found = []
    for raw in value.split(","):
        raw = raw.strip()
        if not raw:
            continue
        try:
            found.append(normalize_email(raw, special_use=special_use))
        except ValueError as exc:
            raise InputError(f"--to: {raw!r} is not a valid address: {exc}") from None
    if not found:
        raise InputError("--to: give at least one address")
    return found


@click.command("send-test")
@click.argument("issue_or_slug", metavar="ID_OR_SLUG")
@click.option("--to", "to", metavar="ADDR[,ADDR]",
              help="Where to send the test copies (default: the saved test addresses).")
@click.pass_context
def send_test(ctx: click.Context, issue_or_slug: str, to: str | None) -> None:
    """Send one test copy of an issue (ID) or article (SLUG or path) to the given addresses,
    or to the test addresses saved in the editor app.

    The subject starts with [TEST]; no subscriber gets it and nothing is recorded. Exit
    status 1 when a copy was refused.
    """
    config = current_config()
    special_use = config["newsletter"]["special_use_domains"]
    addresses = _addresses(to, special_use) if to is not None else testers.saved(current_db())
    if not addresses:
        raise InputError("--to: no address given and no test address saved (add some in the editor app)")
    if issue_or_slug.isascii() and issue_or_slug.isdigit():
        conn = current_db()
        copy, token = testcopy.of_issue(conn, config, issues.get(conn, int(issue_or_slug)))
    else:
        copy, token = testcopy.of_article(config, resolve(issue_or_slug, config.content_dir))
    failed = 0
    for address, error in delivery.send_test(config, copy, addresses, test_token=token):
        if error:
            failed += 1
            echo(f"{address}: not sent: {error}", err=True)
        else:
            echo(f"{address}: sent")
    ctx.exit(1 if failed else 0)


COMMANDS = (send, send_test,)
