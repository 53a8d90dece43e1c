"""Benchmark: milliseconds per utterance of the full NLU (rules, e5 exemplars, opt-out head) per locale.

Measures wall and CPU time per classify() call on a fixed mix of utterances (opt-outs, hard
negatives, long rambles), after a warm-up, and the time of each part: the rules alone, the
encoder, the head. Prints a table and writes JSON with --json. Timing belongs here, not in
the tests (a loaded machine would make a timed test flaky). Usage:
  nice -n 10 python scripts/bench_nlu.py [--locale en-US] [--repeat 5] [--json out/bench_nlu.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from agent.nlu.factory import build_nlu  # noqa: E402

UTTERANCES = {
    "en-US": [
        "please stop calling me",
        "i'm not sure i can make it by then",
        "call me back after five",
        "texts are fine, calls are not",
        "so, um, like, I've had this card forever and I always pay, I just don't want any more calls",
        "i'll pay on friday",
        "is this a robot",
        "one more call and I'm reporting you to the CFPB",
    ],
    "zh-CN": [
        "别再给我打电话了",
        "我现在还不上",
        "晚点再打",
        "发短信可以，打电话不行",
        "你好，嗯，是这样的，我家里有老人，电话一响就吓一跳，所以麻烦以后别往家里打了",
        "我周五还",
        "你是机器人吗",
        "再打我就去银保监会投诉",
    ],
}


def _time(call: Callable[[str], object], texts: Sequence[str], repeat: int) -> dict[str, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        for text in texts:
            wall, cpu = time.perf_counter(), time.process_time()
            call(text)
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    return {
        "wall_ms_median": round(statistics.median(walls), 2),
        "wall_ms_p95": round(walls[int(0.95 * (len(walls) - 1))], 2),
        "cpu_ms_median": round(statistics.median(cpus), 2),
    }


def bench(locale: str, repeat: int) -> dict[str, object]:
    nlu = build_nlu(locale, ROOT / "prompts")
    texts = UTTERANCES[locale]
    for text in texts:
        nlu.classify(text)  # warm-up: model pages, regex caches
    assert nlu.semantic is not None
    semantic = nlu.semantic
    encoder = semantic._encoder  # the raw encoder, past the pipeline's vector cache
    fresh = iter(range(10**9))
    parts = {
        "pipeline": lambda t: nlu.classify(f"{t} {next(fresh)}"),  # never a cached vector
        "rules": nlu.rules.classify,
        "encoder": lambda t: encoder.encode([t]),
    }
    if nlu.head is not None:
        head, vector = nlu.head, semantic.embed(texts[0])
        parts["head"] = lambda t: head.probability(vector, nlu.rules.normalize(t))
    timings = {k: _time(v, texts, repeat) for k, v in parts.items()}
    return {"locale": locale, "n": len(texts) * repeat, **timings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", action="append", choices=sorted(UTTERANCES))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    reports = [bench(locale, args.repeat) for locale in args.locale or sorted(UTTERANCES)]
    print(f"{'locale':<7} {'part':<9} {'wall ms (median)':>17} {'wall ms (p95)':>14} {'cpu ms (median)':>16}")
    for report in reports:
        for part in ("pipeline", "rules", "encoder", "head"):
            row = report.get(part)
            if isinstance(row, dict):
                print(
                    f"{report['locale']:<7} {part:<9} {row['wall_ms_median']:>17} {row['wall_ms_p95']:>14}"
                    f" {row['cpu_ms_median']:>16}"
                )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
