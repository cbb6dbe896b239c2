"""Time `subscribers import` of a generated CSV (default 100,000 rows; goal: under 15 s).

    python bench/import.py [ROWS]

Runs the real command in a subprocess against a fresh database in a temporary folder, twice
(first import, then the idempotent re-import), and prints the figures.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "subscribers.csv"
        with open(csv_path, "w", encoding="utf-8") as out:
            out.write("email,name,source\n")
            for i in range(rows):
                out.write(f"Reader.{i}@Example{i % 97}.com,Reader {i},bench\n")
        (tmp / "config.toml").write_text('[database]\npath = "bench.db"\n')
        env = {**os.environ, "NEWSLETTER_CONFIG": str(tmp / "config.toml")}
        times = []
        for label in ("first import", "re-import"):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "newsletter", "subscribers", "import", str(csv_path)],
                cwd=ROOT, env=env, capture_output=True, text=True,
            )
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            if proc.returncode != 0:
                print(proc.stdout, proc.stderr, file=sys.stderr)
                return 1
            print(f"{label}: {rows} rows in {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s): {proc.stdout.strip()}")
        goal = max(times) < 15
    if rows >= 100_000:
        print(f"goal (100,000 rows in under 15 s): {'met' if goal else 'NOT met'}")
    return 0 if goal or rows < 100_000 else 1


if __name__ == "__main__":
    sys.exit(main())
