"""Memory and load time with both locales loaded (SPEC 11: ≤ 2 GB RSS for en-US + zh-CN).

Loads the runtime for en-US and zh-CN as the server does (models, scripts, NLU), speaks and hears
one sentence per locale (so lazy allocations are counted), and prints each model's load
time and the process's peak and current RSS. Usage: python scripts/zh_memory.py [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from zh_common import print_table, write_json

from agent.cli.common import settings
from agent.runtime import Runtime


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB, from /proc."""
    lines = Path("/proc/self/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cfg = settings(None)
    cfg.engines.locales = ["en-US", "zh-CN"]
    cfg.engines.tts_cache_dir = None
    with tempfile.TemporaryDirectory() as tmp:
        cfg.store.url = f"sqlite:///{tmp}/memory.db"
        started = time.perf_counter()
        runtime = Runtime.load(cfg)
        total_s = time.perf_counter() - started
    engines = runtime.engines
    loaded = rss_mb()

    async def use() -> None:
        for loc, text in (("en-US", "Please stop calling me."), ("zh-CN", "不要再给我打电话了。")):
            speech = await engines.synthesize(loc, text)
            await engines.transcribe(loc, speech.pcm16k)

    asyncio.run(use())
    used = rss_mb()
    engines.close()
    rows = [[k, v] for k, v in engines.load_ms.items()]
    print_table(f"model load times (total {total_s:.1f} s)", ["model", "ms"], rows)
    print_table("RSS, both locales", ["when", "RSS MB", "peak MB"],
                [["loaded", round(loaded[0]), round(loaded[1])], ["after one turn each", round(used[0]),
                                                                   round(used[1])]])
    write_json(args.json, {"load_ms": engines.load_ms, "load_total_s": round(total_s, 1),
                           "rss_loaded_mb": loaded[0], "rss_used_mb": used[0], "rss_peak_mb": used[1],
                           "zh_voice": cfg.engines.zh_voice})


if __name__ == "__main__":
    main()
