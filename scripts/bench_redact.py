"""Benchmark: seconds `agent.compliance.redact.redact` takes on hostile and ordinary strings.

Each (shape, size) runs in its own process under a time limit, so a pattern that backtracks
shows as `>LIMIT` instead of hanging the benchmark. Prints a table (rows: shapes, columns: sizes)
and writes JSON with --json. Usage:
  nice -n 10 python scripts/bench_redact.py [--sizes 1000,16000,1000000] [--limit 20] [--json PATH]
Also `--log` times the log path (agent.logs.redact_event, which caps long values first), and
`--cpu` shows CPU seconds instead of wall seconds (steadier when others load the machine).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


SHAPES: dict[str, Callable[[int], str]] = {
    "word run (d...)": _repeat("d"),
    "digit run (1...)": _repeat("1"),
    "spaced digits (1 1 ...)": _repeat("1 "),
    "digit words (one two ...)": _repeat("one two "),
    "'@' run": _repeat("@"),
    "'.' run": _repeat("."),
    "email-ish (a.a.a...)": lambda n: "x@" + _repeat("a.")(n - 2),
    "dashes (a-a-a...)": lambda n: "x@" + _repeat("a-")(n - 2),
    "CJK + numerals (测试一二三...)": _repeat("测试一二三四五六七八九十幺"),
    "mixed CJK/latin/digits": _repeat("还款 pay 138 一三八 @ . - "),
    "prose with PII": _repeat("Call me at (415) 555-1234 or ann@example.com, card 4111 1111 1111 1111. "),
}


def _redact_worker(shape: str, size: int, log_path: bool, out: mp.Queue) -> None:  # type: ignore[type-arg]
    text = SHAPES[shape](size)
    if log_path:
        from agent.logs import redact_event

        started, cpu = time.perf_counter(), time.process_time()
        redact_event(None, "info", {"event": "bad message", "type": text})
    else:
        from agent.compliance.redact import redact

        started, cpu = time.perf_counter(), time.process_time()
        redact(text)
    out.put((time.perf_counter() - started, time.process_time() - cpu))


def measure(shape: str, size: int, limit: float, log_path: bool) -> tuple[float, float] | None:
    """(wall, CPU) seconds for one redaction, or None when it ran past `limit`."""
    queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    proc = mp.Process(target=_redact_worker, args=(shape, size, log_path, queue))
    proc.start()
    proc.join(limit)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return None
    wall, cpu = queue.get(timeout=5)
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,4000,16000,64000,256000,1000000")
    parser.add_argument("--limit", type=float, default=20.0, help="seconds before a case is called stuck")
    parser.add_argument("--log", action="store_true", help="time the log path instead of redact()")
    parser.add_argument("--cpu", action="store_true", help="show CPU seconds (steadier on a shared machine)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[str, dict[str, tuple[float, float] | None]] = {}
    what = "log redaction" if args.log else "redact()"
    kind = "CPU" if args.cpu else "wall"
    table = Table(title=f"{what}: {kind} seconds per call (limit {args.limit:g} s wall)")
    table.add_column("shape")
    for size in sizes:
        table.add_column(f"{size:,} chars", justify="right")
    for shape in SHAPES:
        row: dict[str, tuple[float, float] | None] = {}
        stuck = False
        for size in sizes:
            # once a shape is past the limit, larger sizes are too: do not wait for them again
            row[str(size)] = None if stuck else measure(shape, size, args.limit, args.log)
            stuck = row[str(size)] is None
        results[shape] = row
        cells = (
            f"{v[1 if args.cpu else 0]:.4f}" if v is not None else f">{args.limit:g}" for v in row.values()
        )
        table.add_row(shape, *cells)
    Console(width=160).print(table)
    if args.json:
        args.json.write_text(
            json.dumps({"limit_s": args.limit, "log": args.log, "seconds": results}, indent=2)
        )


if __name__ == "__main__":
    main()
