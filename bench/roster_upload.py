"""Benchmark: a check-in desk scanning while the organiser uploads a 5 MB roster (issue 12).

    .venv/bin/python bench/roster_upload.py [--rounds 3]

Each round is tests/test_roster_serving.py's scenario (`desk_during_a_roster_upload`): a fresh
SQLite database, the real server as `python app.py` runs it (gevent), a 5,000-row XLSX of 4.6 MB
uploaded while the desk scans (a write each) every 50 ms. The test asserts that the desk is served
during the upload; this prints how fast: the scans' median, p95 and slowest latency before and
during the upload, how many went over 100 ms, and the ratio of the slowest during the upload to
the slowest of the 20 before it (the same machine, the same minute). Medians over the rounds.

The machine is shared with other work: look at the load average printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import ROOT, percentile, verdict

sys.path.insert(0, str(ROOT))

from tests.test_roster_serving import desk_during_a_roster_upload

BUDGET_MS = 100.0


def one_round() -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-roster-") as workdir:
        seen = desk_during_a_roster_upload(Path(workdir))
    during = sorted(latency * 1000 for latency in seen.latencies)
    before = sorted(latency * 1000 for latency in seen.before)
    return {
        "upload_s": seen.upload_ended - seen.upload_started,
        "scans": len(during),
        "before_p50": percentile(before, 50),
        "before_max": before[-1],
        "p50": percentile(during, 50),
        "p95": percentile(during, 95),
        "max": during[-1],
        "over": sum(latency > BUDGET_MS for latency in during),
        "ratio": during[-1] / before[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    os.chdir(ROOT)
    rounds = []
    for number in range(1, options.rounds + 1):
        result = one_round()
        rounds.append(result)
        print(
            f"round {number}: upload {result['upload_s']:.1f} s, {result['scans']} scans: "
            f"p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, max {result['max']:.0f} ms, "
            f"{result['over']} over {BUDGET_MS:.0f} ms; before: p50 {result['before_p50']:.0f} ms, "
            f"max {result['before_max']:.0f} ms; ratio {result['ratio']:.1f}",
            flush=True,
        )
    print(f"medians of {len(rounds)} rounds (load average {os.getloadavg()[0]:.1f}):")
    for key in ("upload_s", "scans", "p50", "p95", "max", "over", "before_max", "ratio"):
        print(f"  {key}: {statistics.median(result[key] for result in rounds):.2f}")
    slowest = max(result["max"] for result in rounds)
    ratio = statistics.median(result["ratio"] for result in rounds)
    print(
        verdict(
            slowest <= BUDGET_MS,
            f"every desk scan during the upload within {BUDGET_MS:.0f} ms",
            f"slowest {slowest:.0f} ms, {ratio:.1f}x the slowest before the upload (median of the rounds)",
        )
    )


if __name__ == "__main__":
    main()
