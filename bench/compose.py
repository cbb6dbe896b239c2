"""Compose benchmark: cold and warm render time of the seed digest.

    python bench/compose.py [--runs N] [--cold-runs N]

cold: a fresh ``python`` process that imports the package, parses the seed and renders the
digest (wall time of the whole process, and the import + parse + render time inside it).
warm: the median (and slowest) of N renders in this process after one warm-up render.
Goals (issue 2): under 1.5 s cold, under 50 ms warm; the seed digest under 51 KB.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"

COLD = """
import time
t0 = time.perf_counter()
from newsletter.config import load_config
from newsletter.content import load_article
from newsletter.compose import render_issue
article = load_article({seed!r})
rendered = render_issue([article], load_config())
print(time.perf_counter() - t0)
"""


def cold(runs: int) -> tuple[list[float], list[float]]:
    """(whole-process seconds, in-process seconds) of ``runs`` fresh processes."""
    env = {k: v for k, v in os.environ.items() if k != "NEWSLETTER_CONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONDONTWRITEBYTECODE"] = "0"
    whole, inside = [], []
    with tempfile.TemporaryDirectory() as cwd:  # no ./config.toml: built-in defaults
        for _ in range(runs):
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", COLD.format(seed=str(SEED))],
                cwd=cwd, env=env, check=True, capture_output=True, text=True, timeout=60,
            )
            whole.append(time.perf_counter() - start)
            inside.append(float(out.stdout.strip().splitlines()[-1]))
    return whole, inside


def warm(runs: int) -> tuple[list[float], int]:
    """Seconds of each of ``runs`` renders after a warm-up, and the HTML size in bytes."""
    sys.path.insert(0, str(ROOT))
    from newsletter.compose import render_issue
    from newsletter.config import load_config
    from newsletter.content import load_article

    os.environ.pop("NEWSLETTER_CONFIG", None)
    os.chdir(tempfile.gettempdir())
    config = load_config()
    article = load_article(SEED)
    rendered = render_issue([article], config)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render_issue([article], config)
        times.append(time.perf_counter() - start)
    return times, len(rendered.html.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="warm renders (default 30)")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes (default 3)")
    args = parser.parse_args()
    whole, inside = cold(args.cold_runs)
    times, size = warm(args.runs)
    ms = 1000
    print(f"seed digest: {size} bytes HTML ({size / 1024:.1f} KB; goal < 51 KB)")
    print(
        f"cold: {statistics.median(whole):.3f} s median of {len(whole)} fresh processes "
        f"(import + parse + render inside: {statistics.median(inside):.3f} s; goal < 1.5 s)"
    )
    print(
        f"warm: {statistics.median(times) * ms:.1f} ms median, {max(times) * ms:.1f} ms slowest "
        f"of {len(times)} renders (goal < 50 ms)"
    )


if __name__ == "__main__":
    main()
