"""Time the real send pipeline against a bare smtplib loop, both to a fast local discard sink.

    python bench/send.py [SUBSCRIBERS] [MEMORY_SUBSCRIBERS]

SUBSCRIBERS (default 20,000): the seed issue is sent with ``delivery.send_issue`` (ledger on,
4 connections, one row claimed and one marked sent per message) to that many subscribers.
Then a bare loop (4 threads, smtplib, one pre-built message) sends as many messages to the same
sink. MEMORY_SUBSCRIBERS (default 100,000; 0 skips): a fresh process sends to that many and
reports its peak memory (ru_maxrss). The sink runs in its own process: asyncio, pipelining,
discards everything. Goals: >= 2,000 msgs/s, >= half the bare loop, < 150 MB.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"


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


def setup(tmp: Path, port: int, subscribers: int):
    from newsletter import issues, store
    from newsletter.config import load_config

    config = load_config(
        overrides={
            "database": {"path": str(tmp / "bench.db")},
            "smtp": {"backend": "smtp", "host": "127.0.0.1", "port": port, "security": "none",
                     "connections": 4, "outbox": str(tmp / "outbox")},
            "newsletter": {"base_url": "https://news.example.org"},
        },
        environ={"NEWSLETTER_SECRET_KEY": "bench"},
    )
    conn = store.connect(config)
    stamp = store.to_db_time(store.now_utc())
    with store.transaction(conn):
        conn.executemany(
            "INSERT INTO subscribers (email, email_key, name, subscribed_at) VALUES (?, ?, ?, ?)",
            ((f"reader{i}@example{i % 50}.com", f"reader{i}@example{i % 50}.com", f"Reader {i}", stamp)
             for i in range(subscribers)),
        )
        conn.execute("INSERT INTO issues (subject, articles, created_at) VALUES ('', ?, ?)",
                     (f'["{SEED}"]', stamp))
    issue_id = conn.execute("SELECT max(id) FROM issues").fetchone()[0]
    rendered = seed_issue(config)
    issues.freeze(conn, issue_id, rendered)
    return config, conn, issue_id, rendered


def ledger_send(tmp: Path, port: int, subscribers: int) -> tuple[float, int, int]:
    """(seconds, messages sent, message size) of send_issue to ``subscribers``."""
    from newsletter import delivery

    config, conn, issue_id, rendered = setup(tmp, port, subscribers)
    started = time.perf_counter()
    cpu = time.process_time()
    with delivery.SendLock(config, conn):
        delivery.recover_in_flight(conn)
        report = delivery.send_issue(conn, config, issue_id)
    elapsed = time.perf_counter() - started
    global CPU_PER_MESSAGE
    CPU_PER_MESSAGE = (time.process_time() - cpu) / max(report.sent, 1)
    from newsletter.mail import MessageTemplate

    size = len(MessageTemplate(rendered, config, issue_id).sample())
    return elapsed, report.sent, size


CPU_PER_MESSAGE = 0.0


def bare_loop(port: int, message: bytes, total: int, threads: int = 4) -> float:
    per_thread = total // threads

    def work():
        conn = smtplib.SMTP("127.0.0.1", port)
        conn.ehlo()
        for i in range(per_thread):
            conn.sendmail("newsletter@example.com", [f"reader{i}@example.com"], message)
        conn.quit()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    cpu = time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    global BARE_CPU_PER_MESSAGE
    BARE_CPU_PER_MESSAGE = (time.process_time() - cpu) / max(per_thread * threads, 1)
    return time.perf_counter() - started


BARE_CPU_PER_MESSAGE = 0.0


def memory_run(port: int, subscribers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, sent, _ = ledger_send(Path(tmp), port, subscribers)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{sent} {elapsed:.2f} {peak_mb:.1f}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-run":
        memory_run(int(sys.argv[2]), int(sys.argv[3]))
        return 0
    subscribers = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    memory_subscribers = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    parent, child = multiprocessing.Pipe()
    sink = multiprocessing.Process(target=run_sink, args=(child,), daemon=True)
    sink.start()
    port = parent.recv()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, sent, size = ledger_send(Path(tmp), port, subscribers)
        ledger_rate = sent / elapsed
        print(f"pipeline (send_issue, ledger on, 4 connections): {sent} messages of {size:,} bytes "
              f"in {elapsed:.2f}s = {ledger_rate:,.0f} msgs/s "
              f"(sender CPU {CPU_PER_MESSAGE * 1e6:.0f} µs/message)")

        from newsletter.config import load_config
        from newsletter.mail import MessageTemplate

        config = load_config(environ={"NEWSLETTER_SECRET_KEY": "bench"})
        message = MessageTemplate(seed_issue(config), config, 1).sample()
        bare = bare_loop(port, message, subscribers)
        bare_rate = subscribers / bare
        print(f"bare smtplib loop (4 threads, one pre-built message): {subscribers} in {bare:.2f}s "
              f"= {bare_rate:,.0f} msgs/s (sender CPU {BARE_CPU_PER_MESSAGE * 1e6:.0f} µs/message)")
        print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work slows both loops)")
        print(f"pipeline / bare = {ledger_rate / bare_rate:.2f} (goal >= 0.5); "
              f"pipeline goal >= 2,000 msgs/s: {'met' if ledger_rate >= 2000 else 'NOT met'}")

        if memory_subscribers:
            out = subprocess.run(
                [sys.executable, __file__, "--memory-run", str(port), str(memory_subscribers)],
                capture_output=True, text=True, check=True,
            ).stdout.split()
            sent, seconds, peak = int(out[0]), float(out[1]), float(out[2])
            print(f"memory: {sent} messages in {seconds:.1f}s ({sent / seconds:,.0f} msgs/s), "
                  f"peak RSS {peak:.0f} MB (goal < 150 MB)")
    finally:
        sink.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
