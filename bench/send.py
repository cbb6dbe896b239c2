"""Time the real send pipeline against a bare smtplib loop, both to a fast local discard sink,
on SQLite and on PostgreSQL.

    python bench/send.py [SUBSCRIBERS] [MEMORY_SUBSCRIBERS] [sqlite|postgresql]

SUBSCRIBERS (default 100,000): for each database the seed issue is sent with
``delivery.send_issue`` (ledger on, 4 connections: every message claimed before it is sent and
marked sent after its 250) to that many subscribers; right after, a bare loop (4 threads,
smtplib, one pre-built message, no database) sends as many messages to the same sink, so both
figures come from the same moment of the machine. MEMORY_SUBSCRIBERS (default 1,000,000; 0
skips): a fresh process sends to that many and reports its rate and peak memory (the
subscribers are imported beforehand by this process; VmHWM, not ru_maxrss, which would count
this process's memory shared at the fork). The sink runs in its own process:
asyncio, pipelining, discards everything. Goals: pipeline >= the bare loop, peak < 100 MB.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from databases import ROOT, databases

SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"
CONNECTIONS = 4


# --- the sink -------------------------------------------------------------------------------


class Sink(asyncio.Protocol):
    """Minimal SMTP server: answers every command (pipelined or not) and discards the data."""

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    self.buffer = self.buffer[-4:]  # keep what may start the terminator
                    break
                self.buffer = self.buffer[end + 5:]
                self.in_data = False
                out.append(b"250 2.0.0 queued\r\n")
                continue
            line, sep, rest = self.buffer.partition(b"\r\n")
            if not sep:
                break
            self.buffer = rest
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                out.append(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.buffer = b"\r\n" + self.buffer  # a message may end at once with "."
                out.append(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                out.append(b"221 bye\r\n")
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            else:
                out.append(b"250 ok\r\n")
        if out:
            self.transport.write(b"".join(out))


def run_sink(port_out) -> None:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(Sink, "127.0.0.1", 0, backlog=128))
    port_out.send(server.sockets[0].getsockname()[1])
    loop.run_forever()


# --- the two senders -------------------------------------------------------------------------


def seed_issue(config):
    from newsletter.compose import render_issue
    from newsletter.content import load_article

    return render_issue([load_article(SEED)], config)


def bench_config(database: dict, port: int, folder: Path):
    from newsletter.config import load_config

    return load_config(
        overrides={
            "database": database,
            "smtp": {"backend": "smtp", "host": "127.0.0.1", "port": port, "security": "none",
                     "connections": CONNECTIONS, "outbox": str(folder / "outbox")},
            "newsletter": {"base_url": "https://news.example.org", "sender": "Bench <news@example.org>",
                           "postal_address": "1 Bench Street, Benchville"},
        },
        environ={"NEWSLETTER_SECRET_KEY": "bench"},
    )


def setup(database: dict, port: int, folder: Path, subscribers: int) -> int:
    """``subscribers`` subscribers (imported as the CLI would) and a draft of the seed issue in
    a fresh database; returns the issue's id."""
    from newsletter import issues, store, subscriber_import

    config = bench_config(database, port, folder)
    conn = store.connect(config)
    subscriber_import.import_rows(conn, ((f"reader{i}@example{i % 50}.com", f"reader{i}@example{i % 50}.com",
                                          f"Reader {i}") for i in range(subscribers)))
    issue_id = conn.execute("INSERT INTO issues (subject, articles, created_at) VALUES ('', ?, ?) RETURNING id",
                            (f'["{SEED}"]', store.to_db_time(store.now_utc()))).fetchone()[0]
    issues.freeze(conn, issue_id, seed_issue(config))
    conn.close()
    return issue_id


def ledger_send(database: dict, port: int, folder: Path, issue_id: int) -> tuple[float, int, float]:
    """(seconds, messages sent, sender CPU seconds per message) of send_issue."""
    from newsletter import delivery, store

    config = bench_config(database, port, folder)
    conn = store.connect(config)
    started, cpu = time.perf_counter(), time.process_time()
    with delivery.sender_lock(config, conn):
        delivery.recover_in_flight(conn)
        report = delivery.send_issue(conn, config, issue_id)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, report.sent, (time.process_time() - cpu) / max(report.sent, 1)


def bare_loop(port: int, message: bytes, total: int, threads: int = CONNECTIONS) -> tuple[float, float]:
    """(seconds, sender CPU seconds per message) of ``total`` messages sent by plain smtplib."""
    per_thread = total // threads

    def work():
        conn = smtplib.SMTP("127.0.0.1", port)
        conn.ehlo()
        for i in range(per_thread):
            conn.sendmail("newsletter@example.com", [f"reader{i}@example.com"], message)
        conn.quit()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started, cpu = time.perf_counter(), time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - started, (time.process_time() - cpu) / max(per_thread * threads, 1)


def memory_run(port: int, database: dict, folder: str, issue_id: int) -> None:
    elapsed, sent, _ = ledger_send(database, port, Path(folder), issue_id)
    print(f"{sent} {elapsed:.2f} {peak_mb():.1f}")


def peak_mb() -> float:
    """This process's peak memory since it started (VmHWM: ru_maxrss would also count the
    parent's memory shared at the fork before the exec)."""
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def measure(target, port: int, message: bytes, folder: Path, subscribers: int, memory_subscribers: int) -> None:
    """One database's figures: the pipeline, the bare loop right after it, then memory."""
    database = target.new_database(folder / "rate")
    issue_id = setup(database, port, folder, subscribers)
    elapsed, sent, cpu = ledger_send(database, port, folder, issue_id)
    rate = sent / elapsed
    print(f"{target.name:10} pipeline (send_issue, ledger on, {CONNECTIONS} connections): {sent:,} messages in"
          f" {elapsed:.2f} s = {rate:,.0f} msgs/s (sender CPU {cpu * 1e6:.0f} µs/message)")
    bare, bare_cpu = bare_loop(port, message, subscribers)
    bare_rate = subscribers / bare
    print(f"{target.name:10} bare smtplib loop ({CONNECTIONS} threads, one pre-built message): {subscribers:,} in"
          f" {bare:.2f} s = {bare_rate:,.0f} msgs/s (sender CPU {bare_cpu * 1e6:.0f} µs/message)")
    print(f"{target.name:10} pipeline / bare = {rate / bare_rate:.2f} (goal >= 1.0)")
    if memory_subscribers:
        database = target.new_database(folder / "memory")
        issue_id = setup(database, port, folder, memory_subscribers)
        out = subprocess.run(
            [sys.executable, __file__, "--memory-run", str(port), json.dumps(database), str(folder), str(issue_id)],
            capture_output=True, text=True, check=True,
        ).stdout.split()
        sent, seconds, peak = int(out[0]), float(out[1]), float(out[2])
        print(f"{target.name:10} memory: {sent:,} messages in {seconds:.1f} s ({sent / seconds:,.0f} msgs/s), "
              f"peak RSS {peak:.0f} MB (goal < 100 MB)")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-run":
        memory_run(int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
        return 0
    subscribers = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    memory_subscribers = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    only = sys.argv[3] if len(sys.argv) > 3 else ""
    parent, child = multiprocessing.Pipe()
    sink = multiprocessing.Process(target=run_sink, args=(child,), daemon=True)
    sink.start()
    port = parent.recv()
    try:
        from newsletter.mail import MessageTemplate

        with tempfile.TemporaryDirectory() as tmp, databases(only) as targets:
            message = MessageTemplate(seed_issue(bench_config({}, port, Path(tmp))), bench_config({}, port, Path(tmp)),
                                      1).sample()
            print(f"messages of {len(message):,} bytes")
            for target in targets:
                measure(target, port, message, Path(tmp) / target.name, subscribers, memory_subscribers)
        print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work slows both loops)")
    finally:
        sink.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
