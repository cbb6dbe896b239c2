"""Newsletter issues: create, read, render, schedule, cancel, and delivery counts.

States and the moves they allow are in :mod:`states` (``draft`` -> ``scheduled`` -> ``sending``
-> ``sent``; ``missed``; ``cancelled``, final). An issue keeps a copy of its articles as they
were when it was created (:mod:`snapshots`; :func:`refresh_articles` takes them again before
it goes out) and is rendered from that copy until sending starts; then the rendered copy is
frozen into its row, so a resumed send and the web view show exactly what was sent
(:func:`rendered`).
"""
from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePath

from . import snapshots, tallies
from .compose import RenderedIssue, render_issue, subject_line
from .config import Config
from .content import Article, resolve, slug_for
from .errors import ContentError, InputError
from .states import (
    CANCELLABLE,
    EDITABLE,
    OPEN,
    PUBLISHED,
    SCHEDULABLE,
    SHOWN_DELIVERY_STATES,
    DeliveryState,
    IssueState,
    SubscriberStatus,
)
from .store import Connection, Row, from_db_time, is_row_id, now_utc, to_db_time, transaction


@dataclass(frozen=True)
class Issue:
    id: int
    subject: str
    articles: tuple[str, ...]
    state: IssueState
    send_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    frozen_subject: str | None = None  # the subject it was sent with, once sending started
    last_send: "SendOutcome | None" = None

    @classmethod
    def from_row(cls, row: Row) -> "Issue":
        return cls(
            id=row["id"],
            subject=row["subject"],
            articles=tuple(json.loads(row["articles"])),
            state=IssueState(row["state"]),
            send_at=from_db_time(row["send_at"]),
            created_at=from_db_time(row["created_at"]),
            started_at=from_db_time(row["started_at"]),
            finished_at=from_db_time(row["finished_at"]),
            frozen_subject=row["rendered_subject"],
            last_send=SendOutcome(from_db_time(row["last_send_at"]), row["last_send_status"],
                                  row["last_send_note"] or "") if row["last_send_at"] else None,
        )

    @property
    def when(self) -> datetime | None:
        """The time that matters in a list: when it was sent, began sending, or is to be sent."""
        if self.state in PUBLISHED:
            return self.finished_at or self.started_at
        return self.send_at


@dataclass(frozen=True)
class SendOutcome:
    """How the last send run of an issue ended: its exit status (0 done, 1 some failed or
    paused, 2 refused, 3 the server could not be reached) and its summary or error."""

    at: datetime
    status: int
    note: str


_COLUMNS = ("id, subject, articles, state, send_at, created_at, started_at, finished_at,"
            " rendered_subject, last_send_at, last_send_status, last_send_note")


def article_ref(ref: str, content_dir: Path, *, allow_paths: bool = True) -> tuple[Article, str]:
    """Check that ``ref`` names an article; returns (article, what to store).

    A slug is stored as the slug; a file path is stored as an absolute path (shown by ``issue
    show``; with ``allow_paths=False``, for web forms, only slugs are taken).
    """
    article = resolve(ref, content_dir, allow_paths=allow_paths)
    if ref.strip().lower() == article.slug or article.path is None:
        return article, ref.strip().lower()
    return article, str(Path(article.path).resolve())


def create(
    conn: Connection,
    content_dir: Path,
    refs: list[str],
    *,
    subject: str = "",
    send_at: datetime | None = None,
    now: datetime | None = None,
    allow_paths: bool = True,
) -> int:
    """Store a new issue of the articles ``refs`` name (slugs of ``content_dir`` or, with
    ``allow_paths``, file paths), each kept as it is now (:mod:`snapshots`); returns its id."""
    if not refs:
        raise InputError("an issue needs at least one article")
    if "\n" in subject or "\r" in subject or "\0" in subject:
        raise InputError("subject: must be one line")
    chosen = [article_ref(ref, content_dir, allow_paths=allow_paths) for ref in refs]
    with transaction(conn):
        row = conn.execute(
            "INSERT INTO issues (subject, articles, state, send_at, created_at) VALUES (?, ?, ?, ?, ?)"
            " RETURNING id",
            (
                subject.strip(),
                json.dumps([stored for _, stored in chosen]),
                IssueState.SCHEDULED if send_at else IssueState.DRAFT,
                to_db_time(send_at) if send_at else None,
                to_db_time(now or now_utc()),
            ),
        ).fetchone()
        snapshots.store(conn, row[0], [article for article, _ in chosen])
    return row[0]


def articles_of(conn: Connection, config: Config, issue: Issue) -> list[Article]:
    """The issue's articles as they were when it was created.

    An issue made before copies were kept gets one now, from the files its refs name; for an
    issue that has already gone out, only from files unchanged since it started sending (a
    later edit is not what was mailed): ContentError otherwise.
    """
    kept = snapshots.load(conn, issue.id)
    if kept:
        return kept
    articles = [resolve(ref, config.content_dir) for ref in issue.articles]
    for ref, article in zip(issue.articles, articles, strict=True):
        if issue.started_at and article.path is not None and \
                Path(article.path).stat().st_mtime > issue.started_at.timestamp():
            raise ContentError(f"{ref}: changed since issue {issue.id} went out; its copy is lost")
    with transaction(conn):
        snapshots.store(conn, issue.id, articles)
    return snapshots.load(conn, issue.id)


def refresh_articles(conn: Connection, config: Config, issue_id: int) -> Issue:
    """Take the issue's articles again from the files its refs name (after an edit), while it
    has not started going out; InputError once it has."""
    issue = get(conn, issue_id)
    if issue.state not in SCHEDULABLE or issue.started_at is not None:
        raise InputError(f"issue {issue_id} is {issue.state}; its articles can no longer change")
    articles = [resolve(ref, config.content_dir) for ref in issue.articles]
    with transaction(conn):
        if get(conn, issue_id).started_at is None:
            snapshots.renew(conn, issue_id, articles)
    return get(conn, issue_id)


def published_article(conn: Connection, config: Config, slug: str,
                      issue_id: int | None = None) -> tuple[int, Article] | None:
    """(issue id, article) of ``slug`` as issue ``issue_id`` (else the newest issue carrying
    it) went out; only issues that are sending or sent. Issues made before copies were kept
    get theirs on the way (:func:`articles_of`) when their refs name ``slug``."""
    found = snapshots.newest_with(conn, slug, tuple(PUBLISHED), issue_id)
    if found:
        return found
    marks = ", ".join("?" * len(PUBLISHED))
    where, args = f"state IN ({marks})", list(PUBLISHED)
    if issue_id is not None:
        where, args = where + " AND id = ?", [*args, issue_id]
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM issues i WHERE {where}"
        " AND NOT EXISTS (SELECT 1 FROM issue_articles a WHERE a.issue_id = i.id) ORDER BY id DESC", args,
    ).fetchall()
    for issue in (Issue.from_row(row) for row in rows):
        if slug in {slug_of_ref(ref) for ref in issue.articles}:
            try:
                return next((issue.id, a) for a in articles_of(conn, config, issue) if a.slug == slug)
            except (ContentError, InputError, StopIteration):
                continue
    return None


def get(conn: Connection, issue_id: int) -> Issue:
    """The issue with this id; InputError when there is none."""
    if not is_row_id(issue_id):
        raise InputError(f"issue {issue_id}: no such issue")
    row = conn.execute(f"SELECT {_COLUMNS} FROM issues WHERE id = ?", (issue_id,)).fetchone()
    if row is None:
        raise InputError(f"issue {issue_id}: no such issue")
    return Issue.from_row(row)


def list_issues(conn: Connection, state: IssueState | None = None) -> list[Issue]:
    """Issues, newest first (issues are few; subscribers are what is never loaded whole)."""
    if state:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM issues WHERE state = ? ORDER BY id DESC", (state,))
    else:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM issues ORDER BY id DESC")
    return [Issue.from_row(r) for r in rows]


def frozen_copy(conn: Connection, issue_id: int) -> RenderedIssue | None:
    """The rendered copy frozen into the issue's row when sending started, if any."""
    row = conn.execute(
        "SELECT rendered_subject, rendered_preheader, rendered_html, rendered_text FROM issues WHERE id = ?",
        (issue_id,),
    ).fetchone()
    if row is None or row["rendered_html"] is None:
        return None
    return RenderedIssue(subject=row["rendered_subject"], preheader=row["rendered_preheader"] or "",
                         html=row["rendered_html"], text=row["rendered_text"])


def render_afresh(conn: Connection, config: Config, issue: Issue, now: datetime | None = None, *,
                  read_token: str | None = None) -> RenderedIssue:
    """The issue's copy of its articles rendered now, dated ``now`` in the newsletter's zone
    (content errors raise); ``read_token``: see :func:`compose.render_issue`."""
    day = (now or now_utc()).astimezone(config.timezone).date()
    return render_issue(articles_of(conn, config, issue), config, subject=issue.subject or None,
                        issue_date=day, issue_id=issue.id, read_token=read_token)


@dataclass(frozen=True)
class ArticleRef:
    """One article of an issue as the editor sees it: the stored reference, its slug, its
    title in the issue's copy (empty when it cannot be read), and whether the content folder
    has an article of that slug (so its preview page exists)."""

    ref: str
    slug: str
    title: str
    in_folder: bool


def article_refs(conn: Connection, config: Config, issue: Issue,
                 folder: Collection[str] = ()) -> list[ArticleRef]:
    """The issue's articles, in order, titled as its copy has them (:mod:`snapshots`; an issue
    made before copies were kept: as their files have them); ``folder``: the content folder's
    slugs."""
    kept = snapshots.titles(conn, issue.id)
    if len(kept) != len(issue.articles):
        kept = [(slug_of_ref(ref), _file_title(config, ref)) for ref in issue.articles]
    return [ArticleRef(ref, slug, title, slug in folder)
            for ref, (slug, title) in zip(issue.articles, kept, strict=True)]


def _file_title(config: Config, ref: str) -> str:
    try:
        return resolve(ref, config.content_dir).title
    except (InputError, ContentError):
        return ""


def subject(conn: Connection, config: Config, issue: Issue,
            articles: list[ArticleRef] | None = None) -> str:
    """The subject its subscribers get (or got): the one it was sent with, else its own, else
    the lead article's title. ``articles`` (:func:`article_refs`) saves reading them again; a
    lead article that cannot be read leaves its reference in brackets."""
    if issue.frozen_subject:
        return issue.frozen_subject
    if issue.subject:
        return subject_line(issue.subject, "", "")
    lead = (articles or article_refs(conn, config, issue))[0]
    return subject_line("", lead.title or f"[{lead.ref}: cannot be read]", config["newsletter"]["name"])


def edit(conn: Connection, content_dir: Path, issue_id: int, refs: list[str], subject: str, *,
         allow_paths: bool = True) -> Issue:
    """Change the subject and the articles (``refs``, in order, as for :func:`create`) of a
    draft or scheduled issue that has not started going out; InputError once it has. An
    article the issue already had keeps its copy; one new to it is copied from its file now."""
    if not refs:
        raise InputError("an issue needs at least one article")
    if "\n" in subject or "\r" in subject or "\0" in subject:
        raise InputError("subject: must be one line")
    issue = get(conn, issue_id)
    chosen = _edited_articles(conn, content_dir, issue, refs, allow_paths)
    marks = ", ".join("?" * len(EDITABLE))
    with transaction(conn):
        changed = conn.execute(
            f"UPDATE issues SET subject = ?, articles = ? WHERE id = ? AND state IN ({marks})"
            " AND rendered_html IS NULL AND started_at IS NULL",
            (subject.strip(), json.dumps([stored for _, stored in chosen]), issue_id, *EDITABLE),
        ).rowcount
        if not changed:
            raise InputError(f"issue {issue_id} is {get(conn, issue_id).state}; only draft or scheduled"
                             " issues can be edited")
        snapshots.renew(conn, issue_id, [article for article, _ in chosen])
    return get(conn, issue_id)


def _edited_articles(conn: Connection, content_dir: Path, issue: Issue, refs: list[str],
                     allow_paths: bool) -> list[tuple[Article, str]]:
    """(article, what to store) for each of ``refs``: the issue's own copy for an article it
    already has (from its file for an issue made before copies were kept), else the file's."""
    # no copies at all for an issue made before copies were kept
    kept = dict(zip(issue.articles, snapshots.load(conn, issue.id), strict=False))
    chosen = []
    for ref in refs:
        if ref in issue.articles:
            article, stored = kept.get(ref), ref
        else:
            article, stored = article_ref(ref, content_dir, allow_paths=allow_paths)
            article = kept.get(stored, article)
        chosen.append((article or resolve(stored, content_dir), stored))
    return chosen


def rendered(conn: Connection, config: Config, issue: Issue, now: datetime | None = None) -> RenderedIssue:
    """What its subscribers get: the copy frozen when sending started, else a render dated
    ``now`` (the preview passes the send time, as the sender will render it then)."""
    return frozen_copy(conn, issue.id) or render_afresh(conn, config, issue, now)


def freeze(conn: Connection, issue_id: int, copy: RenderedIssue) -> None:
    """Store the rendered copy in the issue's row, unless one is there already."""
    with transaction(conn):
        conn.execute(
            "UPDATE issues SET rendered_subject = ?, rendered_preheader = ?, rendered_html = ?, "
            "rendered_text = ? WHERE id = ? AND rendered_html IS NULL",
            (copy.subject, copy.preheader, copy.html, copy.text, issue_id),
        )


def schedule(
    conn: Connection,
    issue_id: int,
    send_at: datetime,
    *,
    now: datetime | None = None,
    max_lateness: timedelta | None = None,
) -> Issue:
    """Set the send time of a draft, scheduled or missed issue (state becomes ``scheduled``).

    A time already more than ``max_lateness`` in the past is refused: ``send-due`` would only
    mark it missed again (use ``send ID`` to send now).
    """
    now = now or now_utc()
    if max_lateness is not None and now - send_at > max_lateness:
        raise InputError(
            f"issue {issue_id}: that time is more than {_span(max_lateness)} ago;"
            f" pick a later time, or send it now with `send {issue_id}`"
        )
    with transaction(conn):
        issue = get(conn, issue_id)
        if issue.state not in SCHEDULABLE:
            raise InputError(f"issue {issue_id} is {issue.state}; "
                             "only draft, scheduled or missed issues can be scheduled")
        conn.execute("UPDATE issues SET state = ?, send_at = ? WHERE id = ?",
                     (IssueState.SCHEDULED, to_db_time(send_at), issue_id))
    return get(conn, issue_id)


def cancel(conn: Connection, issue_id: int) -> tuple[Issue, bool]:
    """Cancel what has not gone yet; returns the issue and whether anything changed.

    Deliveries already sent (or failed, or unknown) stay recorded; pending ones are dropped,
    so they are never sent: delivery refuses a cancelled issue, and a send already running
    cannot claim a row that is gone.
    """
    with transaction(conn):
        issue = get(conn, issue_id)
        if issue.state == IssueState.CANCELLED:
            return issue, False
        if issue.state not in CANCELLABLE:
            raise InputError(f"issue {issue_id} is already {issue.state}; nothing left to cancel")
        conn.execute("UPDATE issues SET state = ? WHERE id = ?", (IssueState.CANCELLED, issue_id))
        conn.execute("DELETE FROM deliveries WHERE issue_id = ? AND state = ?", (issue_id, DeliveryState.PENDING))
    return get(conn, issue_id), True


def mark_missed(conn: Connection, issue_id: int) -> bool:
    """Scheduled (or stalled sending) -> missed: send-due's late guard. False if the state moved on."""
    cur = conn.execute(
        "UPDATE issues SET state = ? WHERE id = ? AND state IN (?, ?)",
        (IssueState.MISSED, issue_id, IssueState.SCHEDULED, IssueState.SENDING),
    )
    return cur.rowcount > 0


def mark_sending(conn: Connection, issue_id: int, now: datetime) -> None:
    """The issue starts (or resumes) sending; a sent issue stays sent (it reaches newcomers)."""
    conn.execute(
        "UPDATE issues SET state = ?, started_at = coalesce(started_at, ?) WHERE id = ? AND state != ?",
        (IssueState.SENDING, to_db_time(now), issue_id, IssueState.SENT),
    )


def record_send(conn: Connection, issue_id: int, now: datetime, status: int, note: str) -> None:
    """Record how a send run of the issue ended (see :class:`SendOutcome`); nothing for an id
    no issue can have."""
    if not is_row_id(issue_id):
        return
    with transaction(conn):
        conn.execute("UPDATE issues SET last_send_at = ?, last_send_status = ?, last_send_note = ? WHERE id = ?",
                     (to_db_time(now), status, note[:1000], issue_id))


def mark_sent(conn: Connection, issue_id: int, now: datetime) -> None:
    """A sending issue with nothing left to do is sent."""
    with transaction(conn):
        conn.execute(
            "UPDATE issues SET state = ?, finished_at = coalesce(finished_at, ?) WHERE id = ? AND state = ?",
            (IssueState.SENT, to_db_time(now), issue_id, IssueState.SENDING),
        )


def last_activity(conn: Connection, issue_id: int, now: datetime) -> datetime | None:
    """The latest of: when sending started, the last ledger write, and the latest retry time
    reached by ``now``. How stale an interrupted or deferred send is."""
    row = conn.execute(
        "SELECT i.started_at,"
        " (SELECT max(updated_at) FROM deliveries WHERE issue_id = i.id),"
        " (SELECT max(next_attempt_at) FROM deliveries WHERE issue_id = i.id"
        "  AND state = ? AND next_attempt_at <= ?)"
        " FROM issues i WHERE i.id = ?",
        (DeliveryState.PENDING, to_db_time(now), issue_id),
    ).fetchone()
    stamps = [stamp for stamp in (row or ()) if stamp]
    return from_db_time(max(stamps)) if stamps else None


def delivery_counts(conn: Connection, issue: Issue) -> dict[DeliveryState, int]:
    """Counts per :data:`~states.SHOWN_DELIVERY_STATES` for an issue, from the kept counts
    (:mod:`tallies`).

    Pending includes deliveries waiting for a retry (of subscribers still active), those in
    flight, and - while the issue can still go out - active subscribers who have no delivery
    row yet.
    """
    counts = dict.fromkeys(SHOWN_DELIVERY_STATES, 0)
    tally = tallies.delivery_tally(conn, issue.id)
    for (state, active), n in tally.items():
        if state == DeliveryState.PENDING and not active:
            continue  # they left: not going out
        counts[DeliveryState.PENDING if state == DeliveryState.SENDING else state] += n
    if issue.state in OPEN:
        reached = sum(n for (_, active), n in tally.items() if active)
        counts[DeliveryState.PENDING] += tallies.subscriber_count(conn, SubscriberStatus.ACTIVE) - reached
    elif issue.state == IssueState.CANCELLED:
        counts[DeliveryState.PENDING] = 0  # never going out
    return counts


def format_counts(counts: dict[DeliveryState, int]) -> str:
    """``sent 3, pending 0, failed 1, unknown 0``: the contract's wording."""
    return ", ".join(f"{state} {counts[state]}" for state in SHOWN_DELIVERY_STATES)


#: an issue's deliveries in one state up to which they are found through the state index (and
#: sorted); past it they are common enough that walking the issue's rows in order finds the
#: first ones at once (SQLite keeps no statistics to choose by itself)
_FEW = 20_000


def problem_deliveries(conn: Connection, issue_id: int, state: DeliveryState,
                       limit: int = 20) -> list[Row]:
    """Up to ``limit`` (email, attempts, last_error) of an issue's deliveries in ``state``, in
    subscriber order."""
    found = tallies.delivery_states(conn, issue_id)[state]
    if not found:
        return []
    index = " INDEXED BY deliveries_state" if conn.dialect == "sqlite" and found <= _FEW else ""
    return conn.execute(
        f"SELECT s.email, d.attempts, d.last_error FROM deliveries d{index} JOIN subscribers s"
        " ON s.id = d.subscriber_id WHERE d.issue_id = ? AND d.state = ? ORDER BY d.subscriber_id LIMIT ?",
        (issue_id, state, limit),
    ).fetchall()


#: an active subscriber the issue has not reached yet (no delivery row); ``i`` is the issue
_NOT_REACHED = (
    f"EXISTS (SELECT 1 FROM subscribers s WHERE s.status = '{SubscriberStatus.ACTIVE}' AND NOT EXISTS"
    " (SELECT 1 FROM deliveries d WHERE d.issue_id = i.id AND d.subscriber_id = s.id))"
)


def resume_due(conn: Connection, now: datetime) -> list[int]:
    """Ids of issues in state ``sending`` with work whose time has come: a pending delivery
    whose retry time is reached (or unset), or an active subscriber with no delivery row yet
    (a send interrupted before it went through the list)."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT i.id FROM issues i WHERE i.state = ? AND ("
            " EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = i.id AND d.state = ?"
            "         AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?))"
            f" OR {_NOT_REACHED}) ORDER BY i.id",
            (IssueState.SENDING, DeliveryState.PENDING, to_db_time(now)),
        )
    ]


def finish_idle(conn: Connection, now: datetime) -> list[int]:
    """Mark ``sent`` the issues left ``sending`` with nothing more to do (a send stopped between
    its last delivery and marking the issue sent); their ids."""
    idle = (
        "SELECT i.id FROM issues i WHERE i.state = ? AND NOT EXISTS"
        " (SELECT 1 FROM deliveries d WHERE d.issue_id = i.id AND d.state IN (?, ?))"
        f" AND NOT {_NOT_REACHED} ORDER BY i.id"
    )
    with transaction(conn):
        ids = [row[0] for row in conn.execute(
            idle, (IssueState.SENDING, DeliveryState.PENDING, DeliveryState.SENDING))]
        for issue_id in ids:
            conn.execute("UPDATE issues SET state = ?, finished_at = coalesce(finished_at, ?) WHERE id = ?",
                         (IssueState.SENT, to_db_time(now), issue_id))
    return ids


def scheduled_until(conn: Connection, now: datetime) -> list[Issue]:
    """Scheduled issues whose send time is at or before ``now``, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM issues WHERE state = ? AND send_at <= ? ORDER BY send_at, id",
        (IssueState.SCHEDULED, to_db_time(now)),
    )
    return [Issue.from_row(r) for r in rows]


def next_scheduled(conn: Connection) -> Issue | None:
    """The scheduled issue that goes out next, if any."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM issues WHERE state = ? ORDER BY send_at, id LIMIT 1", (IssueState.SCHEDULED,)
    ).fetchone()
    return Issue.from_row(row) if row else None


def sent_in(conn: Connection) -> dict[str, list[int]]:
    """Slug -> ids of the issues (sending or sent) that carried that article, oldest first."""
    found: dict[str, list[int]] = {}
    marks = ", ".join("?" * len(PUBLISHED))
    for issue_id, refs in conn.execute(
        f"SELECT id, articles FROM issues WHERE state IN ({marks}) ORDER BY id", tuple(PUBLISHED)
    ):
        for ref in json.loads(refs):
            found.setdefault(slug_of_ref(ref), []).append(issue_id)
    return found


def slug_of_ref(ref: str) -> str:
    """The slug an article reference stands for (a slug, or the file path stored for it)."""
    ref = str(ref).strip()
    if "/" in ref or "\\" in ref:
        return slug_for(PurePath(ref.replace("\\", "/")).name)
    return ref.lower()


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hours" if hours < 48 else f"{hours / 24:g} days"
