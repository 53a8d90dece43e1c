"""What flows into a call's queue: listener signals, key presses, timers, the shell's reports.

The listener emits its signals through a callable (the shell's queue); the session queue
carries exactly `Inbound`. All are small frozen dataclasses; times are loop seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.asr.base import Transcript
from agent.dialogue.events import KeyPress


@dataclass(frozen=True, slots=True)
class HeardTurn:
    """A finished customer turn with its transcript and timings (loop times in seconds)."""

    transcript: Transcript
    onset_ms: int  # stream time of speech onset
    end_ms: int  # stream time of the end of speech
    speech_end_at: float  # loop time the last speech frame arrived
    decided_at: float  # loop time the end of turn was decided
    transcript_at: float  # loop time the final transcript was ready
    fast: bool  # ended on the short wait (complete answer)
    overlapped: bool  # began while the agent was speaking
    barged_in: bool  # interrupted the agent

    @property
    def onset_at(self) -> float:
        """Loop time the speech began (from the stream times of onset and end)."""
        return self.speech_end_at - (self.end_ms - self.onset_ms) / 1000


# --- listener signals ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """Customer speech began (it may still turn out to be noise)."""

    overlapped: bool  # while the agent was speaking


@dataclass(frozen=True, slots=True)
class BargeIn:
    """Customer speech lasted long enough to interrupt the interruptible agent utterance."""


@dataclass(frozen=True, slots=True)
class NoiseDiscarded:
    """A burst too short to be a turn ended."""


@dataclass(frozen=True, slots=True)
class Partial:
    """A running transcript while the customer speaks or pauses."""

    transcript: Transcript


@dataclass(frozen=True, slots=True)
class AnswerFrame:
    """While the answer is screened: one 20 ms frame's evidence (VAD speech flag, beep tone or None)."""

    speech: bool
    tone_hz: float | None


ListenerSignal = SpeechStarted | BargeIn | NoiseDiscarded | Partial | HeardTurn


# --- reports of the shell and the outside ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cut:
    """An utterance was stopped after `heard_ms` of its `total_ms` (barge-in or key press)."""

    say_id: str
    heard_ms: int
    total_ms: int


@dataclass(frozen=True, slots=True)
class AgentQuiet:
    """Every queued agent utterance has played (or been stopped); `spoken` utterances so far."""

    spoken: int


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer the policy started ran out; `token` tells a stale timer from the current one."""

    name: str
    token: int


@dataclass(frozen=True, slots=True)
class StoreFailed:
    """A store write failed: the call must end without promising anything more (SPEC 7.8)."""

    error: str


@dataclass(frozen=True, slots=True)
class PeerHungUp:
    """The customer or the gateway ended the call."""


Inbound = ListenerSignal | AnswerFrame | KeyPress | Cut | AgentQuiet | TimerFired | StoreFailed | PeerHungUp
