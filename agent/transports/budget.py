"""What one connection may send: a message budget and a real-time budget for inbound audio.

Pure (the caller passes the clock). A gateway streams 50 media messages a second and,
after a network stall, a burst of the backlog; anything far beyond that is a broken or
hostile peer:

- messages: a token bucket (`MESSAGE_RATE` a second, bursts up to `MESSAGE_BURST`), and a
  tighter one for control messages and anomalies (`CONTROL_RATE`, `CONTROL_BURST`: a
  gateway sends a few a second). A peer over either is closed (1008) and its connection
  dropped, so what it has still in flight is never parsed. Audio messages only count
  against the first: a fast audio flood is the audio budget's to drop, and a key press
  behind it must still be read.
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
CONTROL_RATE = 50.0  # control messages and anomalies a second, sustained
CONTROL_BURST = 200.0  # ... at once (Twilio echoes every pending mark after a clear: a handful)
AUDIO_BURST_S = 3.0  # seconds of audio that may arrive ahead of the wall clock
MAX_DROPPED_S = 60.0  # audio dropped for arriving too fast before the peer is closed


class BudgetExceeded(ProtocolError):
    """A peer far beyond what any gateway sends: closed (1008), and not listened to any longer."""

    def __init__(self, message: str) -> None:
        super().__init__(message, CLOSE_POLICY)


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
    """The budgets of one connection: `message()` for every frame, `control()` for every one that is
    neither audio nor a routine keep-alive, `audio()` for inbound audio."""

    def __init__(
        self,
        now: float,
        *,
        message_rate: float = MESSAGE_RATE,
        message_burst: float = MESSAGE_BURST,
        control_rate: float = CONTROL_RATE,
        control_burst: float = CONTROL_BURST,
        audio_burst_s: float = AUDIO_BURST_S,
        max_dropped_s: float = MAX_DROPPED_S,
    ) -> None:
        self._messages = _Bucket(message_rate, message_burst, message_burst, now)
        self._control = _Bucket(control_rate, control_burst, control_burst, now)
        self.control_rate, self.control_burst = control_rate, control_burst
        self._audio = _Bucket(1.0, audio_burst_s, audio_burst_s, now)
        self._max_dropped_s = max_dropped_s
        self.message_rate, self.message_burst = message_rate, message_burst
        self.dropped_s = 0.0  # audio refused for running ahead of real time
        self.messages = 0

    def message(self, now: float) -> None:
        """Count one message; ProtocolError (1008) once the peer is over its message budget."""
        self.messages += 1
        if not self._messages.take(1.0, now):
            raise BudgetExceeded(
                f"the peer sent more than {self.message_burst:.0f} messages at once or over "
                f"{self.message_rate:.0f} a second; a gateway streams 50 a second"
            )

    def control(self, now: float) -> None:
        """Count one control message or anomaly; BudgetExceeded (1008) once over that budget."""
        if not self._control.take(1.0, now):
            raise BudgetExceeded(
                f"the peer sent more than {self.control_burst:.0f} control messages at once or over "
                f"{self.control_rate:.0f} a second; a gateway sends a few a second"
            )

    def audio(self, seconds: float, now: float) -> bool:
        """True when `seconds` of inbound audio may be fed to the call, False when it is dropped."""
        if self._audio.take(seconds, now):
            return True
        self.dropped_s += seconds
        if self.dropped_s > self._max_dropped_s:
            raise BudgetExceeded(
                f"inbound audio keeps arriving faster than real time ({self.dropped_s:.0f} s dropped); "
                "a gateway must stream 20 ms of audio every 20 ms"
            )
        return False
