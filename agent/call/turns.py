"""Turn-taking policy: when customer speech starts, when it may interrupt, when a turn ends.

Pure and clock-free: it is fed one VAD decision per 20 ms frame with the frame's stream
time, and answers with signals. The adaptive end of turn (SPEC 4.2) waits `short_ms` of
silence once the running transcript is a complete answer (`complete` is set by the session
from partial transcripts), else `long_ms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config import CallConfig

FRAME_MS = 20
MAX_TURN_MS = 15000  # a customer turn longer than this is cut (recognised in one piece)


@dataclass(frozen=True, slots=True)
class TurnPolicy:
    """The numbers of the policy; see CallConfig for their meaning (its defaults are the only ones)."""

    barge_in_min_ms: int
    min_turn_ms: int
    short_ms: int
    long_ms: int
    max_turn_ms: int = MAX_TURN_MS

    @classmethod
    def from_config(cls, config: CallConfig) -> TurnPolicy:
        """The policy a call's configuration asks for."""
        return cls(
            barge_in_min_ms=config.barge_in_min_ms,
            min_turn_ms=config.min_turn_ms,
            short_ms=config.endpoint_short_ms,
            long_ms=config.endpoint_long_ms,
        )


@dataclass(frozen=True, slots=True)
class Onset:
    """Speech began at `at_ms` (not yet long enough to count)."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class Sustained:
    """Speech has lasted `barge_in_min_ms`: long enough to interrupt the agent."""

    onset_ms: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class Paused:
    """Silence began after real speech; a good moment to start recognising the turn."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class Resumed:
    """Speech came back before the turn ended; earlier recognition is stale."""

    at_ms: int


@dataclass(frozen=True, slots=True)
class EndOfTurn:
    """The customer's turn is over: speech from `onset_ms` to `end_ms`, decided at `at_ms`."""

    onset_ms: int
    end_ms: int
    at_ms: int
    fast: bool  # ended on the short wait because the transcript was a complete answer


@dataclass(frozen=True, slots=True)
class Discarded:
    """A burst too short to be a turn (a click, a cough); nothing is recognised."""

    onset_ms: int


TurnSignal = Onset | Sustained | Paused | Resumed | EndOfTurn | Discarded


class TurnDetector:
    """Turns per-frame speech/silence decisions into turn signals, one call at a time."""

    def __init__(self, policy: TurnPolicy) -> None:
        self.policy = policy
        self.complete = False  # set by the session when the running transcript is a complete answer
        self._onset: int | None = None
        self._speech_ms = 0
        self._last_speech_end: int | None = None
        self._sustained = False
        self._paused = False
        self._silence = 0

    @property
    def in_turn(self) -> bool:
        """True from speech onset until the turn ends or is discarded."""
        return self._onset is not None

    @property
    def silence_ms(self) -> int:
        """Silence since the last speech frame of the current turn (0 while speaking)."""
        return self._silence if self._paused else 0

    def reset(self) -> None:
        """Forget any turn in progress (after the call ends or a turn is consumed)."""
        self._onset = None
        self._speech_ms = 0
        self._last_speech_end = None
        self._sustained = False
        self._paused = False
        self._silence = 0
        self.complete = False

    def push(self, speech: bool, t_ms: int) -> list[TurnSignal]:
        """Feed the VAD decision of the frame that starts at stream time `t_ms`."""
        if speech:
            return self._on_speech(t_ms)
        return self._on_silence(t_ms)

    def _on_speech(self, t_ms: int) -> list[TurnSignal]:
        out: list[TurnSignal] = []
        if self._onset is None:
            self._onset = t_ms
            out.append(Onset(t_ms))
        elif self._paused:
            self._paused = False
            self.complete = False
            out.append(Resumed(t_ms))
        self._speech_ms += FRAME_MS
        self._last_speech_end = t_ms + FRAME_MS
        if not self._sustained and self._speech_ms >= self.policy.barge_in_min_ms:
            self._sustained = True
            out.append(Sustained(self._onset, t_ms + FRAME_MS))
        if t_ms + FRAME_MS - self._onset >= self.policy.max_turn_ms:
            out.append(self._end(t_ms + FRAME_MS, fast=False))
        return out

    def _on_silence(self, t_ms: int) -> list[TurnSignal]:
        if self._onset is None or self._last_speech_end is None:
            return []
        out: list[TurnSignal] = []
        if not self._paused:
            self._paused = True
            if self._speech_ms < self.policy.min_turn_ms:
                onset = self._onset
                self.reset()
                return [Discarded(onset)]
            out.append(Paused(self._last_speech_end))
        self._silence = t_ms + FRAME_MS - self._last_speech_end
        if self.complete and self._silence >= self.policy.short_ms:
            out.append(self._end(t_ms + FRAME_MS, fast=True))
        elif self._silence >= self.policy.long_ms:
            out.append(self._end(t_ms + FRAME_MS, fast=False))
        return out

    def _end(self, at_ms: int, *, fast: bool) -> EndOfTurn:
        assert self._onset is not None and self._last_speech_end is not None
        signal = EndOfTurn(self._onset, self._last_speech_end, at_ms, fast)
        self.reset()
        return signal
