"""The media watch: silence is made up for media that never came, not for media a late loop has not read."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from agent.config import CallConfig
from agent.testing.harness import CallHarness

FRAME = np.zeros(320, dtype=np.int16)


def _listener() -> object:
    harness = CallHarness(config=CallConfig(media_gap_ms=200))
    return harness._build()._listener


async def test_a_late_watch_waits_for_the_media_still_unread() -> None:
    listener = _listener()
    listener.feed(FRAME)  # type: ignore[attr-defined]
    time.sleep(0.5)  # noqa: ASYNC251 - the event loop stalls: the next 25 frames wait in the socket
    # the loop's next turn runs the overdue watch first, then the read of the backlog (this task)
    await asyncio.sleep(0.001)
    for _ in range(25):
        listener.feed(FRAME)  # type: ignore[attr-defined]
    assert listener.filled == 0  # type: ignore[attr-defined]  # no made-up pause in the customer's audio
    assert listener.deferred >= 1  # type: ignore[attr-defined]
    assert listener.frames == 26  # type: ignore[attr-defined]  # each real frame once, nothing twice


@pytest.mark.looptime
async def test_media_that_stops_is_still_silence_by_the_clock() -> None:
    listener = _listener()
    listener.feed(FRAME)  # type: ignore[attr-defined]
    await asyncio.sleep(1.0)  # a gateway with silence suppression sends nothing while the customer is quiet
    assert listener.deferred == 0  # type: ignore[attr-defined]
    assert 40 <= listener.filled <= 50  # type: ignore[attr-defined]  # the second after the last frame, by the clock
