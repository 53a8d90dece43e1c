"""Pacing by real capacity (SPEC 12): a call slot is reserved on a runtime node before dialling.

Pure and clock-free (time is passed in), shared by the live dialer and the simulator:
- `SlotPool`: each node reports how many calls it can take; `reserve` takes one slot on the
  node with the most free slots (None when every node is full, so the dialer waits), and
  `release` gives it back at hang-up. A call that is answered therefore always has an
  agent waiting: no abandoned calls, by construction; `answered` counts any exception.
- `RateLimiter`: a token bucket per trunk for calls per second, and the campaign's cap on
  calls in flight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.campaign.model import Pace


@dataclass(slots=True)
class Node:
    """One runtime node's capacity as it reports it."""

    node_id: str
    slots: int
    in_use: int = 0

    @property
    def free(self) -> int:
        """Slots not reserved."""
        return max(self.slots - self.in_use, 0)


@dataclass(slots=True)
class SlotPool:
    """Call slots across the runtime nodes; reserve before dialling, release at hang-up."""

    nodes: dict[str, Node] = field(default_factory=dict)
    abandoned: int = 0  # answered calls that found no reserved slot (must stay 0)
    peak_in_use: int = 0

    def report(self, node_id: str, slots: int) -> None:
        """A node says how many calls it can take (its in-use count is kept)."""
        node = self.nodes.get(node_id)
        if node is None:
            self.nodes[node_id] = Node(node_id, max(slots, 0))
        else:
            node.slots = max(slots, 0)

    @property
    def free(self) -> int:
        """Free slots on all nodes."""
        return sum(n.free for n in self.nodes.values())

    @property
    def in_use(self) -> int:
        """Reserved slots on all nodes."""
        return sum(n.in_use for n in self.nodes.values())

    def reserve(self) -> str | None:
        """Take a slot on the node with the most free slots; its id, or None when all are full."""
        best = max(self.nodes.values(), key=lambda n: (n.free, n.node_id), default=None)
        if best is None or best.free <= 0:
            return None
        best.in_use += 1
        self.peak_in_use = max(self.peak_in_use, self.in_use)
        return best.node_id

    def release(self, node_id: str) -> None:
        """Give back a slot at hang-up (or when the call never connected)."""
        node = self.nodes.get(node_id)
        if node is not None and node.in_use > 0:
            node.in_use -= 1

    def answered(self, node_id: str | None) -> None:
        """Check an answered call against its reservation; counts an abandon if it has none."""
        node = self.nodes.get(node_id) if node_id else None
        if node is None or node.in_use <= 0 or node.in_use > node.slots:
            self.abandoned += 1


@dataclass(slots=True)
class RateLimiter:
    """Calls per second per trunk (token buckets) and at most `max_concurrent` calls in flight."""

    pace: Pace
    tokens: list[float] = field(default_factory=list)
    stamp: list[datetime | None] = field(default_factory=list)
    in_flight: int = 0

    def __post_init__(self) -> None:
        self.tokens = [1.0] * self.pace.trunks
        self.stamp = [None] * self.pace.trunks

    def _refill(self, i: int, now: datetime) -> None:
        last = self.stamp[i]
        if last is not None and now > last:
            gained = (now - last).total_seconds() * self.pace.calls_per_second
            self.tokens[i] = min(1.0, self.tokens[i] + gained)
        self.stamp[i] = now if last is None or now > last else last

    def acquire(self, now: datetime) -> int | None:
        """A trunk to dial on now (a token taken, one more call in flight), or None."""
        if self.in_flight >= self.pace.max_concurrent:
            return None
        for i in range(self.pace.trunks):
            self._refill(i, now)
            if self.tokens[i] >= 1.0:
                self.tokens[i] -= 1.0
                self.in_flight += 1
                return i
        return None

    def ready(self, now: datetime) -> bool:
        """Whether `acquire` would succeed now (nothing is taken)."""
        if self.in_flight >= self.pace.max_concurrent:
            return False
        for i in range(self.pace.trunks):
            self._refill(i, now)
        return max(self.tokens) >= 1.0

    def done(self) -> None:
        """A call in flight ended."""
        self.in_flight = max(self.in_flight - 1, 0)

    def next_token(self, now: datetime) -> datetime:
        """When the next token will be there on the fullest trunk."""
        for i in range(self.pace.trunks):
            self._refill(i, now)
        need = 1.0 - max(self.tokens)
        return now + timedelta(seconds=max(need, 0.0) / self.pace.calls_per_second)
