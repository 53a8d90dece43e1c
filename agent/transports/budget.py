"""What one connection may send: a message budget and a real-time budget for inbound audio.

Pure (the caller passes the clock). A gateway streams 50 media messages a second and,
after a network stall, a burst of the backlog; anything far beyond that is a broken or
hostile peer:

- messages: a token bucket (`MESSAGE_RATE` a second, bursts up to `MESSAGE_BURST`); a peer
  over it is closed (1008), so 10,000 junk messages cost a few milliseconds, not seconds.
- audio: a token bucket in seconds of audio, refilled at real time, holding at most
  `AUDIO_BURST_S` (a stall's backlog arrives whole). Audio beyond it is dropped before it
  reaches the listener, so a flood cannot queue seconds of VAD work in front of a key
  press. A peer that keeps it up (`MAX_DROPPED_S` dropped in all) is closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.transports.base import ProtocolError
from agent.transports.closes import CLOSE_POLICY

MESSAGE_RATE = 250.0  # messages a second, sustained (5x a 20 ms media stream)
MESSAGE_BURST = 2000.0  # messages at once (40 s of 20 ms frames held up by the network)
AUDIO_BURST_S = 3.0  # seconds of audio that may arrive ahead of the wall clock
MAX_DROPPED_S = 60.0  # audio dropped for arriving too fast before the peer is closed


@dataclass(slots=True)
class _Bucket:
    """Token bucket: `rate` tokens a second up to `cap`; starts full."""

    rate: float
    cap: float
    level: float
    at: float

    def take(self, amount: float, now: float) -> bool:
        self.level = min(self.cap, self.level + max(0.0, now - self.at) * self.rate)
        self.at = now
        if amount > self.level:
            return False
        self.level -= amount
        return True


class ConnectionBudget:
    """The budgets of one connection; `message()` for every frame, `audio()` for inbound audio."""

    def __init__(
        self,
        now: float,
        *,
        message_rate: float = MESSAGE_RATE,
        message_burst: float = MESSAGE_BURST,
        audio_burst_s: float = AUDIO_BURST_S,
        max_dropped_s: float = MAX_DROPPED_S,
    ) -> None:
        self._messages = _Bucket(message_rate, message_burst, message_burst, now)
        self._audio = _Bucket(1.0, audio_burst_s, audio_burst_s, now)
        self._max_dropped_s = max_dropped_s
        self.message_rate, self.message_burst = message_rate, message_burst
        self.dropped_s = 0.0  # audio refused for running ahead of real time
        self.messages = 0

    def message(self, now: float) -> None:
        """Count one message; ProtocolError (1008) once the peer is over its message budget."""
        self.messages += 1
        if not self._messages.take(1.0, now):
            raise ProtocolError(
                f"the peer sent more than {self.message_burst:.0f} messages at once or over "
                f"{self.message_rate:.0f} a second; a gateway streams 50 a second",
                CLOSE_POLICY,
            )

    def audio(self, seconds: float, now: float) -> bool:
        """True when `seconds` of inbound audio may be fed to the call, False when it is dropped."""
        if self._audio.take(seconds, now):
            return True
        self.dropped_s += seconds
        if self.dropped_s > self._max_dropped_s:
            raise ProtocolError(
                f"inbound audio keeps arriving faster than real time ({self.dropped_s:.0f} s dropped); "
                "a gateway must stream 20 ms of audio every 20 ms",
                CLOSE_POLICY,
            )
        return False
