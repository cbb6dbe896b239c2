"""Check benchmark: how long ``newsletter check`` takes on the seed and on a digest.

    python bench/check.py [--runs N]

After one warm-up (the composer parses its CSS on the first render), the median and slowest of
N runs of: ``check_article`` on the seed (compose + sample message + every rule), the rules
alone on the seed's message (``check_message``), and ``check_html`` on a digest of every sample
in ``content/``. Goal: the seed's check_article under 0.5 s (the bound a test used to assert).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "samples" / "000_c1508f7e4351951f.txt"


def timed(run: Callable[[], object], runs: int) -> list[float]:
    """Seconds of each of ``runs`` calls after one warm-up call."""
    run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each (default 20)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from newsletter import check, compose, mail
    from newsletter.config import load_config
    from newsletter.content import load_article, load_articles

    os.environ.pop("NEWSLETTER_CONFIG", None)
    os.chdir(tempfile.gettempdir())  # no ./config.toml: built-in defaults
    config = load_config(overrides={"content": {"dir": str(ROOT / "content")}})
    seed = load_article(SEED)
    raw = mail.sample_message(compose.render_issue([seed], config), config)
    digest = compose.render_issue(load_articles(config.content_dir), config).html
    cases = [
        ("check_article(seed)", lambda: check.check_article(seed, config), "goal < 500 ms"),
        (f"check_message(seed message, {len(raw) / 1024:.1f} KB)",
         lambda: check.check_message(raw, config=config), ""),
        (f"check_html(digest of content/, {len(digest.encode()) / 1024:.1f} KB)",
         lambda: check.check_html(digest, config=config), ""),
    ]
    for name, run, goal in cases:
        times = timed(run, args.runs)
        suffix = f" ({goal})" if goal else ""
        print(f"{name}: {statistics.median(times) * 1000:.1f} ms median, "
              f"{max(times) * 1000:.1f} ms slowest of {len(times)}{suffix}")


if __name__ == "__main__":
    main()
