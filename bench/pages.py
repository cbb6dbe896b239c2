"""Time the editor's pages with a million subscribers and an issue sent to all of them, on
SQLite and on PostgreSQL.

    python bench/pages.py [SUBSCRIBERS] [sqlite|postgresql] [--fresh]

SUBSCRIBERS defaults to 1,000,000. Each database gets that many subscribers (the import's own
path, a batch at a time; one in 50 unsubscribed), one sent issue with a delivery for each of
them (bulk SQL: mostly sent, some failed, unknown and pending), and a few drafts. The SQLite
database is kept in the temporary folder and used again by the next run with the same size
(``--fresh`` builds it anew); PostgreSQL's lives in a throwaway cluster and is built every run.
The editor logs in through Flask's test client; each page is asked for once to warm up, then
:data:`ROUNDS` times: the median and the worst time are printed. Goal: every page under 50 ms.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from databases import ROOT, databases

ROUNDS = 9
GOAL_MS = 50.0
SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"
#: a delivery state for subscriber number i: mostly sent, a few of every other state
STATE_SQL = ("CASE WHEN id % 997 = 0 THEN 'failed' WHEN id % 1999 = 0 THEN 'unknown'"
             " WHEN id % 499 = 0 THEN 'pending' ELSE 'sent' END")


def bench_config(database: dict):
    from newsletter.config import load_config

    return load_config(overrides={"database": database, "content": {"dir": str(ROOT / "content")}},
                       environ={"NEWSLETTER_SECRET_KEY": "bench"})


def build(config, subscribers: int) -> None:
    """The subscribers, the big sent issue and a few drafts, written the fast way."""
    from newsletter import issues, store, subscriber_import
    from newsletter.compose import render_issue
    from newsletter.content import load_article

    conn = store.connect(config)
    started = time.perf_counter()
    subscriber_import.import_rows(conn, ((f"Reader.{i}@Example{i % 97}.com", f"reader.{i}@example{i % 97}.com",
                                          f"Reader {i}") for i in range(subscribers)))
    stamp = store.to_db_time(store.now_utc())
    with store.transaction(conn):
        conn.execute("UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ? WHERE id % 50 = 0",
                     (stamp,))
    big = conn.execute("INSERT INTO issues (subject, articles, state, created_at, started_at, finished_at)"
                       " VALUES ('The big one', ?, 'sent', ?, ?, ?) RETURNING id",
                       (f'["{SEED}"]', stamp, stamp, stamp)).fetchone()[0]
    issues.freeze(conn, big, render_issue([load_article(SEED)], config))
    with store.transaction(conn):
        conn.execute("INSERT INTO deliveries (issue_id, subscriber_id, state, attempts, message_id, updated_at)"
                     f" SELECT ?, id, {STATE_SQL}, 1, 'm' || id, ? FROM subscribers", (big, stamp))
    store.analyze(conn, "deliveries")
    if conn.dialect == "postgresql":  # a database at rest, not one autovacuum is about to visit
        conn.execute("VACUUM ANALYZE")
    for n in range(5):
        issues.create(conn, config.content_dir, [article_slug(config)], subject=f"Draft {n}")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    conn.close()


def article_slug(config) -> str:
    from newsletter import content

    return content.load_articles_report(config.content_dir)[0][0].slug


def pages(config, subscribers: int) -> dict[str, str]:
    """Each page to time: its name and address."""
    from newsletter import store

    conn = store.connect(config)
    big = conn.execute("SELECT id FROM issues WHERE subject = 'The big one'").fetchone()[0]
    conn.close()
    last = -(-subscribers // 50)
    return {
        "dashboard": "/",
        "issues list": "/issues",
        f"issue ({subscribers:,} deliveries)": f"/issues/{big}",
        "subscribers, first page": "/subscribers",
        "subscribers, search": "/subscribers?q=reader.4242",
        "subscribers, last page": f"/subscribers?page={last}",
    }


def time_pages(config, subscribers: int, name: str) -> bool:
    from newsletter import create_app
    from newsletter.web.auth import login_link

    app = create_app({"NEWSLETTER": config, "TESTING": True})
    client = app.test_client()
    assert client.get(login_link(config, "127.0.0.1", 5000).split(":5000", 1)[1]).status_code == 302
    met = True
    for label, url in pages(config, subscribers).items():
        assert client.get(url).status_code == 200, url  # warm-up
        times = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, url
        median, worst = statistics.median(times), max(times)
        met = met and worst < GOAL_MS
        print(f"{name:10} {label:34} median {median:6.1f} ms, worst {worst:6.1f} ms", flush=True)
    return met


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    subscribers = int(args[0]) if args else 1_000_000
    only = args[1] if len(args) > 1 else ""
    cached = Path(tempfile.gettempdir()) / f"newsletter-bench-pages-{subscribers}"
    met = True
    with tempfile.TemporaryDirectory() as tmp, databases(only) as targets:
        for target in targets:
            if target.cluster is None:
                database = {"path": str(cached / "bench.db"), "url": ""}
                if "--fresh" in sys.argv or not (cached / "built").exists():
                    cached.mkdir(exist_ok=True)
                    for stale in cached.iterdir():
                        stale.unlink()
                    print(f"{target.name}: building {subscribers:,} subscribers in {cached}", flush=True)
                    build(bench_config(database), subscribers)
                    (cached / "built").touch()
            else:
                database = target.new_database(Path(tmp) / target.name)
                print(f"{target.name}: building {subscribers:,} subscribers", flush=True)
                build(bench_config(database), subscribers)
            met = time_pages(bench_config(database), subscribers, target.name) and met
    print(f"goal (every page under {GOAL_MS:g} ms, worst of {ROUNDS}): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
