"""What the console's live view sees: each active call's state and transcript as it happens.

`LiveRecorder` wraps the call's real recorder: after each durable write it tells the
`LiveBoard`, which keeps the active calls and fans each change out to subscribers (the
console's server-sent events). Only what the store keeps is shown, redacted the same way.
An operator can end a call through the board (`end`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.call.recorder import CallRecorder
from agent.compliance.redact import redact

LIVE_METRICS = frozenset({"voice_to_voice_ms", "nlu_ms", "barge_in", "opt_out_persist_ms"})  # shown live
QUEUE_MAX = 256  # a subscriber this far behind is dropped (its page reconnects and re-reads the board)


@dataclass
class LiveCall:
    """One active call as the console shows it."""

    call_id: str
    started: dict[str, Any]
    turns: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    state: str = "connecting"
    metrics: dict[str, float] = field(default_factory=dict)  # the latest value of each LIVE_METRICS name

    def view(self) -> dict[str, Any]:
        """The call as JSON for the page."""
        return {"call_id": self.call_id, "started": self.started, "turns": self.turns,
                "events": self.events, "state": self.state, "metrics": self.metrics}


class LiveBoard:
    """The active calls of this process and the queues of whoever watches them."""

    def __init__(self) -> None:
        self.calls: dict[str, LiveCall] = {}
        self._enders: dict[str, Callable[[], None]] = {}
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def open(self, call_id: str, started: Mapping[str, Any], ender: Callable[[], None]) -> None:
        """A call was admitted; `ender` ends it when an operator asks."""
        self.calls[call_id] = LiveCall(call_id, dict(started))
        self._enders[call_id] = ender
        self._publish({"type": "call", "call": self.calls[call_id].view()})

    def end(self, call_id: str) -> bool:
        """Ask the call to end now; False when it is not active here."""
        ender = self._enders.get(call_id)
        if ender is None:
            return False
        ender()
        return True

    def turn(self, call_id: str, speaker: str, text: str, intent: str | None, start_ms: int) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        turn = {"speaker": speaker, "text": redact(text), "intent": intent, "start_ms": start_ms}
        call.turns.append(turn)
        call.state = "talking"
        self._publish({"type": "turn", "call_id": call_id, "turn": turn})

    def event(self, call_id: str, kind: str, data: Mapping[str, Any]) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        item = {"kind": kind, "data": {k: redact(v) if isinstance(v, str) else v for k, v in data.items()}}
        call.events.append(item)
        self._publish({"type": "event", "call_id": call_id, "event": item})

    def metric_sink(
        self, call_id: str, inner: Callable[[str, float], None] | None
    ) -> Callable[[str, float], None]:
        """A session's on_metric: passes each value on to `inner` and shows the latency ones live."""

        def observe(name: str, value: float) -> None:
            if inner is not None:
                inner(name, value)
            call = self.calls.get(call_id)
            if call is not None and name in LIVE_METRICS:
                call.metrics[name] = value
                self._publish({"type": "metric", "call_id": call_id, "name": name, "value": value})

        return observe

    def close(self, call_id: str, outcome: str, timings: Mapping[str, Any]) -> None:
        self._enders.pop(call_id, None)
        if self.calls.pop(call_id, None) is not None:
            self._publish({"type": "ended", "call_id": call_id, "outcome": outcome, "timings": dict(timings)})

    def snapshot(self) -> list[dict[str, Any]]:
        """Every active call."""
        return [c.view() for c in self.calls.values()]

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue receiving every change from now on."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_MAX)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    def _publish(self, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self._subscribers.discard(queue)
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait({"type": "resync"})


class LiveRecorder:
    """A CallRecorder that writes through `inner`, then shows the write on the board."""

    def __init__(self, inner: CallRecorder, board: LiveBoard) -> None:
        self._inner = inner
        self._board = board

    async def record_opt_out(self, call_id: str, scope: str, via: str) -> None:
        await self._inner.record_opt_out(call_id, scope, via)
        self._board.event(call_id, "opt_out", {"scope": scope, "via": via})

    async def record_turn(
        self, call_id: str, speaker: str, text: str, intent: str | None, start_ms: int
    ) -> None:
        await self._inner.record_turn(call_id, speaker, text, intent, start_ms)
        self._board.turn(call_id, speaker, text, intent, start_ms)

    async def record_event(self, call_id: str, kind: str, data: Mapping[str, Any]) -> None:
        await self._inner.record_event(call_id, kind, data)
        self._board.event(call_id, kind, data)

    async def finish_call(self, call_id: str, outcome: str, timings: Mapping[str, Any]) -> None:
        try:
            await self._inner.finish_call(call_id, outcome, timings)
        finally:
            self._board.close(call_id, outcome, timings)
