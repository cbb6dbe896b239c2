"""Helpers shared by the tests: sample articles and issues, a ledger to send from, and the
command line run against a config file of its own. Servers live in ``smtpserver`` and
``browser``; fixtures in ``conftest``."""
from __future__ import annotations

import socket
from datetime import date
from html import escape
from pathlib import Path

from click.testing import CliRunner

from newsletter import issues, store
from newsletter.cli import cli
from newsletter.compose import RenderedIssue, render_issue
from newsletter.config import load_config
from newsletter.content import Article, Block, Inline, Quote
from newsletter.store import now_utc, to_db_time, transaction

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"  # the reference article


# --- articles shaped like the parsed seed, built by hand -----------------------------------------

TITLE = "Trump Rejects Maduro Amnesty in Tense Phone Call"
STANDFIRST = (
    "President Trump just told Nicolás Maduro on the phone: no blanket amnesty, no deal—just get "
    "out now. With US warships circling and Venezuelan airspace shut down, is this the final "
    "countdown for the Caracas regime? What happens if he refuses?"
)
BIO = (
    "Steven Soarez passionately shares his financial expertise to help everyone better "
    "understand and master investing."
)
DISCLAIMER = (
    "Financial market analysis from 03/12/2025. Market conditions may have changed since publication."
)
OBAMA = "Money is not the only answer, but it makes a difference."


def inline(text: str) -> Inline:
    return Inline(text, escape(text, quote=False))


def paragraph(text: str) -> Block:
    return Block("paragraph", content=inline(text))


def lead_article(**changes) -> Article:
    """An article shaped like the parsed seed."""
    fields = dict(
        slug="000_c1508f7e4351951f",
        path=None,
        format="text",
        title=TITLE,
        date=date(2025, 12, 3),
        read_time=5,
        author="Steven Soarez",
        author_bio=BIO,
        excerpt=STANDFIRST,
        quote=Quote(OBAMA, "Barack Obama"),
        disclaimer=DISCLAIMER,
        blocks=[
            paragraph(STANDFIRST),
            paragraph("Have you ever wondered what it sounds like when one president tells another to go?"),
            Block("heading", content=inline("The Phone Call That Changed Everything"), level=2),
            paragraph("Sources familiar with the exchange say the call happened last week. " * 30),
            Block("quote", content=inline("If he didn’t leave willingly, the US would consider other options.")),
            Block("list", items=(inline("No more supply flights"), inline("No easy escape routes"))),
            Block("list", ordered=True, items=(inline("First"), inline("Second"))),
            Block("rule"),
            Block("image", src="https://example.com/ship.jpg", alt="A warship at sea"),
            Block("image", src="relative/dropped.jpg", alt="dropped"),
            Block("heading", content=inline("Where We Go From Here"), level=3),
            Block("quote", content=inline(OBAMA), cite="Barack Obama"),
        ],
    )
    fields.update(changes)
    return Article(**fields)


def second_article(**changes) -> Article:
    fields = dict(
        slug="writing-tips",
        path=None,
        format="markdown",
        title="How to write a newsletter people read",
        date=date(2025, 11, 28),
        read_time=3,
        author="Ada Lovelace",
        excerpt=(
            "Short paragraphs, one idea each. Lead with the news. Cut everything else, then cut "
            "again, and readers will thank you for every second you saved them on a busy morning "
            "of reading before work starts. This last sentence should never make it into the digest."
        ),
        url="https://example.com/posts/how-to-write?a=1&b=2",
    )
    fields.update(changes)
    return Article(**fields)


# --- a ledger and the command line over a config file --------------------------------------------

ENV = {"NEWSLETTER_SECRET_KEY": "delivery-test-key", "NEWSLETTER_CONFIG": ""}

#: a [newsletter] section with no placeholder left: the SMTP backend refuses to send the
#: built-in sample sender and postal address, or a base_url on 127.0.0.1
REAL = {"sender": "Test News <news@example.org>", "postal_address": "1 Test Road, Testville",
        "base_url": "https://news.example.org"}
REAL_TOML = "[newsletter]\n" + "".join(f'{key} = "{value}"\n' for key, value in REAL.items())


def write_config(tmp_path: Path, port: int = 25, database_url: str = "", **smtp) -> Path:
    """A config file for the SMTP server on ``port`` (the outbox with ``backend="outbox"``);
    ``database_url`` a PostgreSQL database (the ``database_url`` fixture), else SQLite."""
    values = {"backend": "smtp", "host": "127.0.0.1", "port": port, "security": "none",
              "timeout": 3.0, "connections": 4, **smtp}
    lines = [REAL_TOML, "[database]",
             f'path = "{tmp_path / "state" / "news.db"}"', f'url = "{database_url}"', "[smtp]",
             f'outbox = "{tmp_path / "state" / "outbox"}"']
    for key, value in values.items():
        lines.append(f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {value}")
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(config_path: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config_path), *args], env=ENV, catch_exceptions=False)


def open_db(config_path: Path):
    cfg = load_config(config_path, environ=ENV)
    return cfg, store.connect(cfg)


def sample_rendered(title: str = "Quiet streets, loud ideas") -> RenderedIssue:
    """A real rendered issue (compose.render_issue) of a hand-built article."""
    article = Article(
        slug="streets", path=None, format="markdown", title=title, date=date(2024, 5, 1),
        author="Ann Author", excerpt="Why quiet streets make for loud ideas.",
        quote=Quote("Streets are for people.", "Jane Jacobs"), url="https://example.com/streets",
        blocks=[Block("paragraph", content=Inline("Hello world.", "Hello <b>world</b>."))],
    )
    return render_issue([article], load_config(environ={}))


def add_subscribers(conn, count: int, start: int = 0, domain: str = "example.com") -> list[str]:
    """``count`` active subscribers user<N>@domain, inserted directly; their addresses."""
    stamp = to_db_time(now_utc())
    emails = [f"user{i}@{domain}" for i in range(start, start + count)]
    with transaction(conn):
        conn.executemany(
            "INSERT INTO subscribers (email, email_key, name, subscribed_at) VALUES (?, ?, ?, ?)",
            [(e, e.lower(), f"User {e.split('@')[0][4:]}", stamp) for e in emails],
        )
    return emails


def make_issue(conn, rendered: RenderedIssue | None = None, subject: str = "") -> int:
    """An issue row (draft) with its rendered copy frozen in: returns its id."""
    conn.execute(
        "INSERT INTO issues (subject, articles, created_at) VALUES (?, '[\"streets\"]', ?)",
        (subject, to_db_time(now_utc())),
    )
    issue_id = conn.execute("SELECT max(id) FROM issues").fetchone()[0]
    issues.freeze(conn, issue_id, rendered or sample_rendered())
    return issue_id


def states(conn, issue_id: int) -> dict[str, int]:
    """Delivery rows of an issue per state."""
    return dict(conn.execute(
        "SELECT state, count(*) FROM deliveries WHERE issue_id = ? GROUP BY state", (issue_id,)
    ).fetchall())


def free_port() -> int:
    """A free TCP port on 127.0.0.1, for a server that must be told its port in its config
    (Dovecot, Postfix) rather than bind port 0 and report it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def editor_client(app, config):
    """A test client of ``app`` logged in as the editor (through a one-time login link)."""
    from newsletter.web.auth import login_link

    client = app.test_client()
    url = login_link(config, "127.0.0.1", 5000)
    assert client.get(url.split(":5000", 1)[1]).status_code == 302
    return client
