"""Issue 11's figures in one run: what a catch-up costs, replicas on Redis, and memory at scale.

It runs, one after the other, each printing its own figures beside its baseline:
- `catchup.py`: the GitHub requests and evaluations a catch-up of 1,000 missed deliveries about
  50 pull requests costs, against redelivering and evaluating each on its own;
- `replicas.py`: acknowledgements per second with Redis against in memory, and the time from a
  replica's SIGKILL until its job is finished by another (median and p99);
- `memory_installations.py`: the bot's RSS after each chunk of pull requests across 100
  installations (4 deliveries each: 25,000 pull requests are 100,000 deliveries), which must stay
  flat.

Run: .venv/bin/python bench/nothing_lost.py [--pulls 25000] [--chunk 2500] [--kills 20]
(about 20 minutes at the defaults on 2 cores; --pulls 5000 for a quick look).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def run(script: str, *args: str) -> int:
    """Run one bench script with this interpreter, its output straight through."""
    print(f"\n=== {script} {' '.join(args)}".rstrip(), flush=True)
    started = time.perf_counter()
    code = subprocess.call([sys.executable, str(BENCH / script), *args])
    print(f"=== {script}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=25_000, help="pull requests opened")
    parser.add_argument("--chunk", type=int, default=2_500, help="RSS is printed after each")
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    codes = [
        run("catchup.py"),
        run("replicas.py", "--kills", str(args.kills)),
        run("memory_installations.py", "--deliveries", str(args.pulls), "--chunk", str(args.chunk)),
    ]
    sys.exit(max(codes))


if __name__ == "__main__":
    main()
