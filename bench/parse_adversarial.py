"""Hostile-article benchmark: time and peak memory of parsing each hostile file (issue 10).

    python bench/parse_adversarial.py [--runs N] [NAME...]

The files come from ``tests/adversarial.py`` (the list the tests parse with a timeout): per
reader (front matter, Markdown, copied page, sanitizer, saved page) the inputs that once took
seconds to minutes or gigabytes, each up to its article limit (1 MB; 10 MB for a saved page).
For each: the outcome, the best of N parse times (seconds) and the peak memory Python allocated
while parsing (tracemalloc, a separate run, since tracing slows parsing down; libxml2's own
trees are not counted); then the worst time and memory per reader.
Goal: every file well under a second (a saved page: about as long as a big real page, 1 to 2 s).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from adversarial import HOSTILE, by_name, parse_report  # noqa: E402


def measure(names: list[str], runs: int) -> list[dict]:
    """One report per hostile file: its best time of ``runs`` and its peak memory."""
    reports = []
    for hostile in [by_name(n) for n in names] if names else HOSTILE:
        times = [parse_report(hostile)["seconds"] for _ in range(runs)]
        report = parse_report(hostile, trace_memory=True)
        report["seconds"] = min(times)
        reports.append(report)
        print(f"{hostile.reader:<13} {hostile.name:<26} {report['bytes'] / 1000:7.0f} KB "
              f"{report['seconds']:7.3f} s {report['peak_bytes'] / 1e6:7.1f} MB  {report['outcome']}",
              flush=True)
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per file (best is shown)")
    parser.add_argument("names", nargs="*", help="hostile files to parse (default: all)")
    args = parser.parse_args()
    print(f"{'reader':<13} {'input':<26} {'size':>10} {'time':>9} {'peak':>10}  outcome")
    reports = measure(args.names, args.runs)
    print("\nworst per reader:")
    for reader in dict.fromkeys(r["reader"] for r in reports):
        mine = [r for r in reports if r["reader"] == reader]
        slow = max(mine, key=lambda r: r["seconds"])
        big = max(mine, key=lambda r: r["peak_bytes"])
        print(f"  {reader:<13} time {slow['seconds']:.3f} s ({slow['name']}), "
              f"peak memory {big['peak_bytes'] / 1e6:.1f} MB ({big['name']})")


if __name__ == "__main__":
    main()
