"""Events into and actions out of the dialogue engine: small frozen dataclasses, nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from agent.dialogue.render import Piece

__all__ = [
    "OUTCOMES",
    "Action",
    "CustomerTurn",
    "EndCall",
    "Event",
    "KeyPress",
    "Listen",
    "MaxDuration",
    "NoInput",
    "Outcome",
    "RecordOptOut",
    "Say",
    "SayInterrupted",
]

Outcome: TypeAlias = Literal[
    "promise_to_pay",
    "already_paid",
    "callback_later",
    "hardship",
    "dispute",
    "refused",
    "wrong_person",
    "opted_out",
    "no_response",
    "complaint",
    "request_human",
    "max_duration",
    "not_understood",
    "completed",
    "script_error",
    "voicemail",
]
OUTCOMES: tuple[str, ...] = Outcome.__args__  # type: ignore[attr-defined]
"""Every call outcome, in one place: scripts' `end:` values are checked against it."""


# --- events in -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CustomerTurn:
    """A finished customer utterance as NLU understood it."""

    intent: str
    confidence: float = 1.0
    slots: Mapping[str, str] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True, slots=True)
class KeyPress:
    """A DTMF digit ('0'-'9', '*', '#')."""

    digit: str


@dataclass(frozen=True, slots=True)
class NoInput:
    """The no-input timer ran out while the agent was listening."""


@dataclass(frozen=True, slots=True)
class SayInterrupted:
    """Barge-in cut an agent utterance after `heard_ms` of its `total_ms`."""

    say_id: str
    heard_ms: int
    total_ms: int


@dataclass(frozen=True, slots=True)
class MaxDuration:
    """The call reached its maximum duration."""


Event: TypeAlias = CustomerTurn | KeyPress | NoInput | SayInterrupted | MaxDuration


# --- actions out -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Say:
    """Speak one rendered sentence; `say_id` is stable per script sentence (cache key, barge-in id)."""

    say_id: str
    text: str
    state: str
    interruptible: bool = True
    disclosure: bool = False
    # `text` sentence by sentence, cut at slot boundaries (render_sentences), so speech can be
    # rendered piece by piece: the script's words once for every call, slot values per call
    sentences: tuple[tuple[Piece, ...], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class RecordOptOut:
    """Persist an opt-out; the caller MUST have it durably written before the next action."""

    scope: str
    via: Literal["voice", "dtmf"]


@dataclass(frozen=True, slots=True)
class EndCall:
    """Hang up after everything before it has been played."""

    outcome: str


@dataclass(frozen=True, slots=True)
class Listen:
    """The agent now waits for the customer: what to expect, for ASR hints and end-of-turn."""

    expected: tuple[str, ...]
    hint: str | None = None
    complete_answers: tuple[str, ...] = ()


Action: TypeAlias = Say | RecordOptOut | EndCall | Listen
