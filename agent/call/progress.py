"""Call-progress events: typed, immutable, with one JSON form.

The session emits them; the native protocol sends `to_json(event)` as a text frame and
`voice-agent demo` (and any client) reads them back with `parse`. Field names are the
JSON keys; `type` names the event. Fields left None are omitted from the JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class AgentSaid:
    """The agent started an utterance (its audio follows)."""

    type: ClassVar[str] = "agent"
    say_id: str
    text: str
    state: str
    disclosure: bool = False
    start_ms: int = 0  # ms since the call started


@dataclass(frozen=True, slots=True)
class Transcribed:
    """A running (`final` False) or final customer transcript."""

    type: ClassVar[str] = "transcript"
    final: bool
    text: str
    intent: str | None = None
    confidence: float | None = None
    start_ms: int | None = None


@dataclass(frozen=True, slots=True)
class TurnTimed:
    """A customer turn answered: where its voice-to-voice time went (server clock)."""

    type: ClassVar[str] = "turn"
    voice_to_voice_ms: int
    endpoint_ms: int
    asr_ms: int
    asr_wait_ms: int
    nlu_ms: int
    fast_endpoint: bool


@dataclass(frozen=True, slots=True)
class AgentTurnPlayed:
    """An agent turn finished playing: its longest silence inside (playout ran dry), in ms, and where."""

    type: ClassVar[str] = "played"
    say_ids: tuple[str, ...]
    longest_gap_ms: int
    underruns: int
    longest_gap_at: str = ""  # "say_id: 'unit before' | 'unit after'" (a join), "say_id: inside 'unit'"


@dataclass(frozen=True, slots=True)
class BargedIn:
    """The customer interrupted the agent after `heard_ms` of utterance `say_id`."""

    type: ClassVar[str] = "barge_in"
    say_id: str
    heard_ms: int
    stream_ms: int


@dataclass(frozen=True, slots=True)
class OptedOut:
    """The opt-out was durably recorded `persisted_ms` after it was asked for."""

    type: ClassVar[str] = "opt_out"
    via: str
    persisted_ms: int


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over (the hang-up follows)."""

    type: ClassVar[str] = "end"
    outcome: str


@dataclass(frozen=True, slots=True)
class CallError:
    """The connection is being closed because of an error (close `code`)."""

    type: ClassVar[str] = "error"
    code: int
    message: str


Progress = AgentSaid | Transcribed | TurnTimed | AgentTurnPlayed | BargedIn | OptedOut | CallEnded | CallError
KINDS: dict[str, type[Progress]] = {
    cls.type: cls
    for cls in (AgentSaid, Transcribed, TurnTimed, AgentTurnPlayed, BargedIn, OptedOut, CallEnded, CallError)
}


def to_json(event: Progress) -> dict[str, Any]:
    """The event's JSON object: {"type": ..., field: value, ...} without None fields."""
    body: dict[str, Any] = {"type": event.type}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if value is not None:
            body[f.name] = list(value) if isinstance(value, tuple) else value
    return body


def parse(message: Mapping[str, Any]) -> Progress | None:
    """The event a JSON object describes, or None when it is not a call-progress event."""
    cls = KINDS.get(str(message.get("type")))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in message.items()}
    values = {k: v for k, v in values.items() if k in names}
    try:
        return cls(**values)
    except TypeError:
        return None  # a required field is missing: not an event this version understands
