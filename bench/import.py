"""Time `subscribers import` of a generated CSV on SQLite and PostgreSQL, with peak memory.

    python bench/import.py [ROWS] [sqlite|postgresql]

ROWS defaults to 1,000,000. For each database the real command runs in a subprocess against
a fresh database, twice (the first import, then the idempotent re-import); each line gives the
wall time, the process's CPU time and its peak memory (ru_maxrss). Goal (SQLite, 1,000,000
rows): under 10 s and under 150 MB.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from databases import ROOT, databases, toml

GOAL_SECONDS, GOAL_MB = 10.0, 150.0


def write_csv(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("email,name,source\n")
        for i in range(rows):
            out.write(f"Reader.{i}@Example{i % 97}.com,Reader {i},bench\n")


def run(config: Path, csv_path: Path) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak MB, stdout) of one `subscribers import`."""
    env = {**os.environ, "NEWSLETTER_CONFIG": str(config)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "newsletter", "subscribers", "import", str(csv_path)],
                                cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own CPU time and peak memory
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"import failed ({proc.returncode}): {err.read().strip()}")
        return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().strip()


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    met = True
    with tempfile.TemporaryDirectory() as tmp, databases(only) as targets:
        tmp = Path(tmp)
        csv_path = tmp / "subscribers.csv"
        write_csv(csv_path, rows)
        for target in targets:
            config = tmp / f"{target.name}.toml"
            config.write_text(toml(target.new_database(tmp / target.name)))
            for label in ("first import", "re-import"):
                wall, cpu, peak, out = run(config, csv_path)
                print(f"{target.name:10} {label:12}: {rows:,} rows in {wall:.2f} s ({rows / wall:,.0f} rows/s,"
                      f" CPU {cpu:.2f} s), peak {peak:.0f} MB: {out}")
                if target.name == "SQLite" and rows >= 1_000_000:
                    met = met and wall < GOAL_SECONDS and peak < GOAL_MB
    print(f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work slows every figure)")
    if rows >= 1_000_000 and only != "postgresql":
        print(f"goal (SQLite: 1,000,000 rows in under {GOAL_SECONDS:g} s, under {GOAL_MB:g} MB): "
              f"{'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
