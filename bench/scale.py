"""Every figure of issue 12 in one run: rate limit, latency and ingest, each beside its baseline.

  bench/rate_limit.py  charged requests and writes per pull request, release and busy repository,
                       ringbot beside its naive mode (no caches, no ETags, no debounce)
  bench/latency.py     gate and /promote latency with a 100 ms GitHub, and a 200-repository
                       burst, the bot as it is beside the bot as it was (8 workers, sequential
                       reads, 0.3 s debounce)
  bench/ingest.py      webhook acknowledgements per second for every event in app.yml, ringbot
                       beside a bare aiohttp handler that only checks the signature

Each runs in its own process, one after the other, so none disturbs another's timing.

Run: .venv/bin/python bench/scale.py   (about 8 minutes; always exits 0: it measures)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = ("rate_limit.py", "latency.py", "ingest.py")


def main() -> None:
    began = time.monotonic()
    for part in PARTS:
        print(f"=== bench/{part} " + "=" * 60, flush=True)
        started = time.monotonic()
        subprocess.run([sys.executable, str(HERE / part)], check=False)
        print(f"(bench/{part}: {time.monotonic() - started:.0f} s)\n", flush=True)
    print(f"all figures measured in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
