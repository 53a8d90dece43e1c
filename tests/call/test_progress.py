"""Call-progress events: one JSON form, read back as the same typed event."""

from __future__ import annotations

import json

import pytest

from agent.call import progress as p

EVENTS: list[p.Progress] = [
    p.AgentSaid("opening.say.0", "Hello.", "opening", True, 20),
    p.Transcribed(False, "yes"),
    p.Transcribed(True, "yes", "affirm", 0.95, 1200),
    p.TurnTimed(410, 300, 60, 0, 7, True),
    p.AgentTurnPlayed(("reminder.say.0", "reminder.say.1"), 20, 0),
    p.BargedIn("reminder.say.0", 1500, 9000),
    p.OptedOut("dtmf", 12),
    p.CallEnded("opted_out"),
    p.CallError(1008, "bad token"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_round_trip_through_json(event: p.Progress) -> None:
    wire = json.loads(json.dumps(p.to_json(event)))
    assert wire["type"] == event.type
    assert p.parse(wire) == event


def test_the_wire_shape_is_the_documented_one() -> None:
    assert p.to_json(p.Transcribed(False, "yes")) == {"type": "transcript", "final": False, "text": "yes"}
    assert p.to_json(p.CallEnded("completed")) == {"type": "end", "outcome": "completed"}


def test_unknown_or_incomplete_messages_are_not_events() -> None:
    assert p.parse({"type": "hangup", "reason": "x"}) is None
    assert p.parse({"type": "agent", "text": "no say id"}) is None
    extra = {"type": "agent", "say_id": "a", "text": "t", "state": "s", "ms": 5}  # the demo adds "ms"
    assert p.parse(extra) == p.AgentSaid("a", "t", "s")
