"""What the call policy tells the shell to do; the shell executes them strictly in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.call.progress import Progress
from agent.call.signals import HeardTurn
from agent.dialogue.events import Say


@dataclass(frozen=True, slots=True)
class Reply:
    """The customer turn an utterance answers, for voice-to-voice measurement."""

    turn: HeardTurn
    nlu_ms: int


@dataclass(frozen=True, slots=True)
class Speak:
    """Play `say` after what is already queued; `reply` when it answers a customer turn."""

    say: Say
    reply: Reply | None = None


@dataclass(frozen=True, slots=True)
class Interrupt:
    """Stop agent audio now and take back what the gateway holds; `report`: tell the policy (Cut)."""

    report: bool = True
    reason: str = "barge_in"  # barge_in | key | fail_closed


@dataclass(frozen=True, slots=True)
class Prefetch:
    """Synthesise these sentences ahead of need: low priority, or `soon_s` from now (high, by due time)."""

    texts: tuple[str, ...]
    soon_s: float | None = None  # e.g. the held opening of a screened call, needed once a person is heard


@dataclass(frozen=True, slots=True)
class PersistOptOut:
    """Write the opt-out durably and wait for it; nothing after it runs before it is committed."""

    scope: str
    via: str


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """Write an audit event and wait for it."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordTurn:
    """Write a turn in the background, after every earlier write of this call."""

    speaker: str
    text: str
    intent: str | None
    start_ms: int


@dataclass(frozen=True, slots=True)
class Notify:
    """Send a call-progress event."""

    event: Progress


@dataclass(frozen=True, slots=True)
class StartTimer:
    """(Re)start timer `name` to fire in `seconds`; a TimerFired carries `token` back."""

    name: str
    seconds: float
    token: int


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Stop timer `name` if it runs."""

    name: str


@dataclass(frozen=True, slots=True)
class End:
    """Let everything queued play (the goodbye), then hang up with `outcome`."""

    outcome: str


Command = (
    Speak | Interrupt | Prefetch | PersistOptOut | RecordEvent | RecordTurn | Notify | StartTimer
    | CancelTimer | End
)
