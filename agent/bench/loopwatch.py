"""What the server's event loop does when it runs late: a sampling watchdog inside the server.

`voice-agent bench --loopwatch out/loop.json` starts the server with `start()` called first.
A daemon thread then, every `PERIOD_S`:
- samples the main (event-loop) thread's Python stack, and
- keeps one heartbeat in flight on the loop (`call_soon_threadsafe`): its delay is the loop's
  lag, whatever the cause (a long callback, or the process not getting a core).
Stacks sampled while a heartbeat was late (over `LATE_S`) are counted apart, so the report
says what the loop was running when it fell behind, or that it was idle in its poll (the
kernel gave the process no time). The report is rewritten every few seconds (the server is
stopped with a signal), as JSON: lag percentiles, and the top stacks, late and overall.

A profiling aid for benches, not part of serving; it costs a few percent of one core.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

PERIOD_S = 0.005
LATE_S = 0.05  # a heartbeat this late marks the stacks sampled meanwhile as "late"
DEPTH = 8  # frames kept per stack (innermost first)
WRITE_EVERY_S = 3.0
ENV = "VOICE_AGENT_LOOPWATCH"  # where the report goes


def _stack(frame: FrameType | None) -> str:
    parts: list[str] = []
    while frame is not None and len(parts) < DEPTH:
        code = frame.f_code
        parts.append(f"{Path(code.co_filename).name}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return " < ".join(parts) or "(no python frame: in C, e.g. the loop's poll)"


def _find_loop(main_id: int) -> asyncio.AbstractEventLoop | None:
    """The event loop the main thread is running, found on its stack (`self` of `_run_once`,
    or of the `asyncio.Runner` uvicorn runs it with: the loop's own frames may not show).

    Not by scanning `gc.get_objects()`: that list holds references to objects other threads
    are still building, and CPython's tuple(generator) then fails with "SystemError: bad
    argument to internal function" (it resizes the tuple in place only while it alone holds
    it); the server died so while loading its models.
    """
    frame = sys._current_frames().get(main_id)
    while frame is not None:
        if frame.f_code.co_name in ("_run_once", "run_forever", "run_until_complete", "run"):
            owner = frame.f_locals.get("self")
            for loop in (owner, getattr(owner, "_loop", None)):  # the loop, or an asyncio.Runner's
                if isinstance(loop, asyncio.AbstractEventLoop) and loop.is_running():
                    return loop
        frame = frame.f_back
    return None


class LoopWatch:
    """The watchdog thread and its counts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.main_id = threading.main_thread().ident
        self.samples: Counter[str] = Counter()
        self.late: Counter[str] = Counter()
        self.lags_ms: list[float] = []
        self._window: list[str] = []  # stacks sampled since the heartbeat in flight was sent
        self._sent_at: float | None = None
        self._lock = threading.Lock()

    def _beat(self, sent_at: float) -> None:
        lag = time.monotonic() - sent_at
        with self._lock:
            self.lags_ms.append(lag * 1000)
            if lag > LATE_S:
                self.late.update(self._window)
            self._window = []
            self._sent_at = None

    def run(self) -> None:
        loop = None
        written = looked = time.monotonic()
        while True:
            time.sleep(PERIOD_S)
            now = time.monotonic()
            if loop is None or loop.is_closed():
                if now - looked > 1.0:  # the loop starts once the models have loaded
                    looked, loop = now, _find_loop(self.main_id or 0)
                continue
            stack = _stack(sys._current_frames().get(self.main_id or 0))
            with self._lock:
                self.samples[stack] += 1
                self._window.append(stack)
                if self._sent_at is None:
                    self._sent_at = now
                    try:
                        loop.call_soon_threadsafe(self._beat, now)
                    except RuntimeError:
                        loop = None
            if now - written > WRITE_EVERY_S:
                written = now
                self.write()

    def report(self) -> dict[str, object]:
        with self._lock:
            lags = sorted(self.lags_ms)
            late_total = sum(self.late.values())

            def pct(q: float) -> float | None:
                return round(lags[min(len(lags) - 1, int(q * len(lags)))], 1) if lags else None

            return {
                "period_ms": PERIOD_S * 1000, "late_ms": LATE_S * 1000,
                "heartbeats": len(lags),
                "lag_ms": {"p50": pct(0.5), "p95": pct(0.95), "p99": pct(0.99), "max": pct(1.0)},
                "late_heartbeats": sum(1 for x in lags if x > LATE_S * 1000),
                "samples": sum(self.samples.values()),
                "late_samples": late_total,
                "top_late": [[n, s] for s, n in self.late.most_common(25)],
                "top": [[n, s] for s, n in self.samples.most_common(25)],
            }

    def write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.report(), indent=1) + "\n")
        os.replace(tmp, self.path)


def start() -> LoopWatch | None:
    """Start the watchdog when `VOICE_AGENT_LOOPWATCH` names a report file."""
    target = os.environ.get(ENV)
    if not target:
        return None
    watch = LoopWatch(Path(target))
    threading.Thread(target=watch.run, name="loopwatch", daemon=True).start()
    return watch
