"""Soak: N calls at once, back to back, for M minutes against a real server; its RSS over time.

    python scripts/soak.py --minutes 10 --concurrency 8 --json out/soak.json

Starts `voice-agent serve` (throw-away SQLite store), plays the bench's scenarios in a loop
with `--concurrency` calls always in flight, samples the server's RSS every `--sample-s`
seconds, prints a table and writes JSON: RSS samples, growth from the end of the first minute
to the end, a least-squares slope (MiB per minute), calls played, outcomes. A leak shows as
steady growth; allocator warm-up shows as a rise in the first minute that then levels off.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from agent.bench.proc import ServerProcess, rss_mb
from agent.bench.runner import BenchOptions, client_voice, play_call
from agent.bench.stats import slope
from agent.config import load_settings
from agent.demo.runner import synthesize_lines
from agent.demo.scenarios import SCENARIOS


async def soak(minutes: float, concurrency: int, locale: str, sample_s: float) -> dict[str, Any]:
    cfg = load_settings(None)
    api_key = cfg.server.api_keys[0]
    opts = BenchOptions(concurrency=[concurrency], locale=locale)
    chosen = [SCENARIOS[locale][n] for n in opts.scenarios]
    voice = client_voice(opts, cfg)
    speech = {s.name: await synthesize_lines(voice, locale, s) for s in chosen}
    numbers = itertools.count(5000)
    samples: list[tuple[float, float]] = []
    outcomes: Counter[str] = Counter()
    ok = 0
    with tempfile.TemporaryDirectory(prefix="voice-agent-soak-") as tmp:
        server = ServerProcess(Path(tmp))
        await server.start()
        t0 = time.monotonic()
        end = t0 + minutes * 60

        async def sampler() -> None:
            while time.monotonic() < end:
                samples.append((round((time.monotonic() - t0) / 60, 3), round(rss_mb(server.pid)[0], 1)))
                await asyncio.sleep(sample_s)

        async def caller(i: int, http: httpx.AsyncClient) -> None:
            nonlocal ok
            for n in itertools.count():
                if time.monotonic() >= end:
                    return
                scen = chosen[(i + n) % len(chosen)]
                rec = await play_call(server.base, server.port, api_key, scen, speech[scen.name],
                                      next(numbers), opts, http)
                outcomes[str(rec.get("outcome"))] += 1
                ok += bool(rec.get("ok"))

        try:
            async with httpx.AsyncClient(base_url=server.base, headers={"X-API-Key": api_key},
                                         timeout=10) as http:
                await asyncio.gather(sampler(), *(caller(i, http) for i in range(concurrency)))
            samples.append((round((time.monotonic() - t0) / 60, 3), round(rss_mb(server.pid)[0], 1)))
        finally:
            server.stop()
    after_first = [r for m, r in samples if m >= 1.0] or [r for _, r in samples]
    late = [(m, r) for m, r in samples if m >= 1.0]
    per_min = slope([m for m, _ in late], [r for _, r in late]) if len(late) >= 3 else None
    return {
        "minutes": minutes, "concurrency": concurrency, "locale": locale, "cpu_count": os.cpu_count(),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "calls": sum(outcomes.values()), "calls_ok": ok, "outcomes": dict(outcomes),
        "rss_start_mb": samples[0][1] if samples else None,
        "rss_after_1min_mb": after_first[0] if after_first else None,
        "rss_end_mb": samples[-1][1] if samples else None,
        "rss_growth_after_1min_mb": round(after_first[-1] - after_first[0], 1) if after_first else None,
        "rss_slope_mb_per_min": round(per_min, 2) if per_min is not None else None,
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--locale", default="en-US", choices=sorted(SCENARIOS))
    ap.add_argument("--sample-s", type=float, default=15.0)
    ap.add_argument("--json", type=Path, default=Path("out/soak.json"))
    args = ap.parse_args(argv)
    result = asyncio.run(soak(args.minutes, args.concurrency, args.locale, args.sample_s))
    table = Table(title=f"soak: {args.concurrency} calls at once for {args.minutes:g} min ({args.locale})")
    for key in ("calls", "calls_ok", "rss_start_mb", "rss_after_1min_mb", "rss_end_mb",
                "rss_growth_after_1min_mb", "rss_slope_mb_per_min"):
        table.add_row(key, str(result[key]))
    table.add_row("outcomes", json.dumps(result["outcomes"]))
    Console().print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    return 0 if result["calls"] and result["calls_ok"] == result["calls"] else 1


if __name__ == "__main__":
    sys.exit(main())
