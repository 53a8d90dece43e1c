"""Rate-limited logging of what peers do wrong, so a flood cannot become a flood of log lines.

Per connection, the first few anomalies of each kind are logged one by one, later ones are
counted and reported in one summary line at most every `every_s` seconds and when the
connection closes. Across all connections a process-wide token bucket caps the lines a
second, so a thousand misbehaving sockets cannot fill the disk or stall the event loop
either (each line goes through the structured-log and redaction pipeline).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger("agent.transports")

FIRST_PER_KIND = 3  # anomalies of one kind logged individually per connection
SUMMARY_EVERY_S = 10.0  # at most one summary line per connection this often
PROCESS_LINES_PER_S = 20.0  # anomaly lines per second for the whole process
PROCESS_BURST = 100.0


class _ProcessLimiter:
    """A token bucket shared by every connection of the process."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._level, self._at = burst, clock()
        self.suppressed = 0

    def allow(self) -> bool:
        now = self._clock()
        self._level = min(self.burst, self._level + (now - self._at) * self.rate)
        self._at = now
        if self._level >= 1.0:
            self._level -= 1.0
            return True
        self.suppressed += 1
        return False


PROCESS = _ProcessLimiter(PROCESS_LINES_PER_S, PROCESS_BURST, time.monotonic)


def warn_limited(fmt: str, *args: object) -> bool:
    """A warning under the process-wide limit (one line per refused connection, say); False if dropped."""
    if PROCESS.allow():
        log.warning(fmt, *args)
        return True
    return False


class AnomalyLog:
    """One connection's anomalies: `note()` each, `close()` once at the end."""

    def __init__(
        self,
        protocol: str,
        *,
        first: int = FIRST_PER_KIND,
        every_s: float = SUMMARY_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        limiter: _ProcessLimiter | None = None,
    ) -> None:
        self.protocol = protocol
        self._first, self._every = first, every_s
        self._clock = clock
        self._limiter = limiter if limiter is not None else PROCESS
        self.counts: Counter[str] = Counter()  # every anomaly, by kind
        self._unreported: Counter[str] = Counter()
        self._last_summary = clock()
        self.lines = 0  # log lines written for this connection

    def note(self, kind: str, detail: str = "") -> None:
        """Record one anomaly of `kind` (a short fixed phrase); `detail` is already clipped."""
        self.counts[kind] += 1
        if self.counts[kind] <= self._first:
            self._emit("%s: %s%s", self.protocol, kind, f": {detail}" if detail else "")
            return
        self._unreported[kind] += 1
        if self._clock() - self._last_summary >= self._every:
            self._summary()

    def close(self) -> None:
        """Report what was counted and not yet logged."""
        if self._unreported:
            self._summary()

    def _summary(self) -> None:
        parts = ", ".join(f"{n} x {kind}" for kind, n in self._unreported.most_common(5))
        self._unreported.clear()
        self._last_summary = self._clock()
        self._emit("%s: and %s more, not logged one by one", self.protocol, parts)

    def _emit(self, fmt: str, *args: object) -> None:
        if self._limiter.allow():
            self.lines += 1
            log.warning(fmt, *args)
