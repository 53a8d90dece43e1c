"""Even load: planned attempts counted per time bucket, each bucket holding at most what pacing allows.

The scheduler asks for a time inside a slot; `BucketLoad.pick` answers with the least-loaded
bucket there (ties broken by a hash of the member key, so members fall evenly over the
slot instead of all at its first minute), at a minute inside that bucket also chosen by the
hash, and counts it. A bucket's capacity comes from the campaign's pace: new calls per
second over the bucket, and concurrent calls over the bucket's length / the average call.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta

from agent.campaign.model import Pace

_EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday


def bucket_capacity(pace: Pace, bucket_minutes: int, mean_call_s: float) -> int:
    """Attempts one bucket may hold: the smaller of the rate limit and the concurrency limit."""
    seconds = bucket_minutes * 60
    by_rate = pace.calls_per_second * pace.trunks * seconds
    by_concurrency = pace.max_concurrent * seconds / max(mean_call_s, 1.0)
    return max(1, int(min(by_rate, by_concurrency)))


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


class BucketLoad:
    """Planned attempts per `bucket_minutes` bucket, at most `capacity` each."""

    def __init__(self, capacity: int, bucket_minutes: int = 5) -> None:
        if capacity < 1 or bucket_minutes < 1:
            raise ValueError("capacity and bucket_minutes must be positive")
        self.capacity = capacity
        self.minutes = bucket_minutes
        self.counts: Counter[int] = Counter()

    def index(self, at: datetime) -> int:
        """The bucket a time falls in."""
        return int((at - _EPOCH).total_seconds() // (self.minutes * 60))

    def start(self, index: int) -> datetime:
        """The first instant of a bucket."""
        return _EPOCH + timedelta(minutes=index * self.minutes)

    def pick(self, start_utc: datetime, end_utc: datetime, key: str) -> datetime | None:
        """A time in [start, end) in the least-loaded bucket with room, counted; None when all are full."""
        first, last = self.index(start_utc), self.index(end_utc - timedelta(microseconds=1))
        span = last - first + 1
        h = _hash(key)
        best: int | None = None
        for i in range(span):
            idx = first + (h + i) % span
            n = self.counts[idx]
            if n < self.capacity and (best is None or n < self.counts[best]):
                best = idx
        if best is None:
            return None
        lo = max(self.start(best), start_utc)
        hi = min(self.start(best + 1), end_utc)
        minutes = max(int((hi - lo).total_seconds()) // 60, 1)
        at = lo + timedelta(minutes=(h >> 16) % minutes)
        at = min(at, end_utc - timedelta(seconds=1))
        self.counts[best] += 1
        return at

    def fill(self, start_utc: datetime, end_utc: datetime) -> float:
        """How full [start, end) is already, 0 (empty) to 1 (every bucket at capacity)."""
        first, last = self.index(start_utc), self.index(end_utc - timedelta(microseconds=1))
        used = sum(min(self.counts.get(i, 0), self.capacity) for i in range(first, last + 1))
        return used / (self.capacity * (last - first + 1))

    def release(self, at: datetime) -> None:
        """Forget one planned attempt (it was dialled, or re-planned)."""
        idx = self.index(at)
        if self.counts[idx] > 0:
            self.counts[idx] -= 1
