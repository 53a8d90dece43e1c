"""The fake gateways' speaker keeps real time, as a phone's does, however late the event loop runs.

On a loaded machine the test process's loop stalls for seconds; a speaker that played one
frame per loop turn fell seconds behind the runtime's real-time playout, so the runtime's
no-input reprompts queued behind a greeting the customer had not yet heard, and a customer
waiting for the agent's pause never got one. Driven with explicit times: no loop, no sleeps.
"""

from __future__ import annotations

import numpy as np

from agent.transports.fakes.base import FRAME_MS, TICK, FakeGateway

RATE = 8000
FRAME = RATE * FRAME_MS // 1000


class Speaker(FakeGateway):
    """A gateway that is never connected: only its playout side, marks noted when echoed."""

    def __init__(self) -> None:
        super().__init__("ws://127.0.0.1:9/unused")
        self.echoed: list[tuple[str, int]] = []  # (mark, frames played when it was echoed)

    async def mark_played(self, name: str) -> None:
        self.echoed.append((name, len(self.played)))


def speech(seconds: float) -> np.ndarray:
    return np.full(int(seconds * RATE), 1000, dtype=np.int16)


async def test_after_a_stall_the_frames_due_meanwhile_play_at_their_times() -> None:
    gw = Speaker()
    start = gw.now()
    gw.enqueue_audio(speech(2.0))  # 100 frames
    gw.enqueue_mark("greeting")
    await gw._play_due(start + 1.0)  # the loop comes back after a 1 s stall
    times = [t for t, _ in gw.played]
    assert times[-1] <= start + 1.0 < times[-1] + TICK  # every frame due by then, not one per loop turn
    assert np.allclose(np.diff(times), TICK) and times[0] >= start
    assert gw.echoed == []  # its audio has not all played
    await gw._play_due(start + 5.0)
    assert len(gw.played) == 100 and gw.queued_samples == 0
    assert gw.echoed == [("greeting", 100)]  # echoed once the audio before it had played


async def test_audio_never_plays_before_it_arrived() -> None:
    gw = Speaker()
    await gw._play_due(gw.now())  # silence up to now
    arrived = gw.now()
    gw.enqueue_audio(speech(0.1))
    await gw._play_due(arrived + 1.0)
    assert len(gw.played) == 5  # all of it: 1 s has passed
    assert gw.played[0][0] >= arrived  # the speaker was silent: the audio starts when it came


async def test_audio_queued_behind_audio_plays_straight_on() -> None:
    gw = Speaker()
    start = gw.now()
    gw.enqueue_audio(speech(0.2))
    await gw._play_due(start + 0.05)  # 3 of 10 frames
    gw.enqueue_audio(speech(0.2))  # the next sentence, while the first still plays
    await gw._play_due(start + 1.0)
    times = [t for t, _ in gw.played]
    assert len(times) == 20 and np.allclose(np.diff(times), TICK)  # no gap, no overlap
