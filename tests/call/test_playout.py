"""Paced playout: real-time pacing with a small send-ahead, instant stop, heard time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import numpy as np
import pytest

from agent.call.playout import Playout, Utterance


async def _play(seconds: float, *, stop_after: float | None = None) -> tuple[list[float], Utterance, Playout]:
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def send(frame: np.ndarray) -> None:
        assert len(frame) == 320
        sent.append(loop.time())

    playout, utt = await _play_one(send, 60, seconds, stop_after, idle_within_s=5)
    return sent, utt, playout


async def _play_one(send: Callable[[np.ndarray], Awaitable[None]], send_ahead_ms: int, seconds: float,
                    stop_after: float | None, *, idle_within_s: float) -> tuple[Playout, Utterance]:
    """One utterance of `seconds` through a playout, stopped `stop_after` in if given; until idle."""
    playout = Playout(send, send_ahead_ms=send_ahead_ms)
    runner = asyncio.create_task(playout.run())
    utt = Utterance("u1", interruptible=True)
    utt.add(np.ones(int(16000 * seconds), dtype=np.int16))
    utt.close()
    playout.play(utt)
    if stop_after is not None:
        await asyncio.sleep(stop_after)
        playout.stop()
    await asyncio.wait_for(playout.wait_idle(), idle_within_s)
    runner.cancel()
    return playout, utt


async def test_frames_go_out_in_real_time() -> None:
    sent, utt, _ = await _play(1.0)
    assert len(sent) == 50
    span = sent[-1] - sent[0]
    assert 0.8 <= span <= 1.3  # 50 frames of 20 ms, minus the 60 ms sent ahead
    assert utt.first_frame_at is not None and utt.done.is_set()


async def test_stop_cuts_the_utterance_at_once() -> None:
    sent, utt, playout = await _play(2.0, stop_after=0.5)
    assert utt.stopped
    assert len(sent) < 40  # 0.5 s in: about 28 frames, not 100
    heard = playout.heard_ms(utt, utt.first_frame_at + 0.5)  # type: ignore[operator]
    assert 450 <= heard <= 550


async def test_max_talk_cap_truncates() -> None:
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def send(frame: np.ndarray) -> None:
        sent.append(loop.time())

    playout = Playout(send, send_ahead_ms=2000, max_talk_s=0.2)
    runner = asyncio.create_task(playout.run())
    utt = Utterance("long", interruptible=True)
    utt.add(np.ones(16000, dtype=np.int16))
    utt.close()
    playout.play(utt)
    await asyncio.wait_for(playout.wait_idle(), 5)
    runner.cancel()
    assert len(sent) == 10 and playout.truncated == 1


class Gateway:
    """A buffering gateway: plays each frame when the one before it ends (or at once if it ran dry)."""

    def __init__(self) -> None:
        self.plays_at: list[float] = []
        self._until = 0.0

    def take(self, now: float) -> None:
        start = max(now, self._until)
        self.plays_at.append(start)
        self._until = start + 0.02

    def silences_ms(self) -> list[int]:
        """Silences heard between frames (a frame that started after the one before it ended)."""
        return [round((b - a - 0.02) * 1000) for a, b in zip(self.plays_at, self.plays_at[1:], strict=False)
                if b - a > 0.021]


async def _stalled(lead_ms: int, stall_s: float,
                   stop_after: float | None = None) -> tuple[Gateway, Playout, Utterance]:
    """One 2 s utterance through a playout whose send blocks `stall_s` once, 0.5 s in (loop time)."""
    loop = asyncio.get_running_loop()
    gateway = Gateway()
    stalled = False

    async def send(frame: np.ndarray) -> None:
        nonlocal stalled
        gateway.take(loop.time())
        if not stalled and len(gateway.plays_at) == 25:
            stalled = True
            await asyncio.sleep(stall_s)  # the event loop busy elsewhere, or the process not on a core

    playout, utt = await _play_one(send, lead_ms, 2.0, stop_after, idle_within_s=10)
    return gateway, playout, utt


@pytest.mark.looptime
async def test_a_buffering_gateway_holds_a_lead_that_rides_over_a_stall() -> None:
    gateway, playout, _ = await _stalled(400, 0.3)
    assert len(gateway.plays_at) == 100
    assert gateway.silences_ms() == []  # the customer hears no gap
    assert playout.underruns == 0


@pytest.mark.looptime
async def test_without_a_lead_the_same_stall_is_heard() -> None:
    gateway, _, _ = await _stalled(60, 0.3)
    assert max(gateway.silences_ms()) >= 200  # 300 ms stall minus the 60 ms held


@pytest.mark.looptime
async def test_a_longer_stall_is_heard_only_for_what_the_lead_did_not_cover() -> None:
    gateway, _, _ = await _stalled(400, 0.7)
    assert 250 <= max(gateway.silences_ms()) <= 350


@pytest.mark.looptime
async def test_with_a_lead_the_first_frames_go_out_at_once_and_stop_sends_nothing_more() -> None:
    gateway, playout, utt = await _stalled(400, 0.0, stop_after=1.0)
    first = gateway.plays_at[0]
    assert utt.first_frame_at == first
    assert utt.stopped
    # 1 s in: what has played (50 frames) plus the 400 ms lead (20), nothing after the stop
    assert len(gateway.plays_at) <= 71
    assert playout.heard_ms(utt, first + 1.0) == 1000  # heard follows the clock, not what was sent


async def _two(stall_s: float) -> tuple[Gateway, Playout, Utterance, Utterance]:
    """Two 1 s utterances queued at once; the send of the second's first frame blocks `stall_s`."""
    loop = asyncio.get_running_loop()
    gateway = Gateway()

    async def send(frame: np.ndarray) -> None:
        gateway.take(loop.time())
        if len(gateway.plays_at) == 51:
            await asyncio.sleep(stall_s)

    playout = Playout(send, send_ahead_ms=400)
    runner = asyncio.create_task(playout.run())
    first, second = Utterance("a", interruptible=False), Utterance("b", interruptible=True)
    for utt in (first, second):
        utt.add(np.ones(16000, dtype=np.int16))
        utt.close()
        playout.play(utt)
    await asyncio.wait_for(playout.wait_idle(), 10)
    runner.cancel()
    return gateway, playout, first, second


@pytest.mark.looptime
async def test_the_lead_holds_across_utterances_of_a_turn() -> None:
    gateway, playout, first, second = await _two(0.3)
    assert len(gateway.plays_at) == 100 and gateway.silences_ms() == []
    assert playout.turn_gap_ms == 0
    assert second.first_frame_at == pytest.approx(first.first_frame_at + 1.0)  # type: ignore[operator]  # right after


@pytest.mark.looptime
async def test_a_barge_in_during_the_tail_of_the_one_before_cuts_that_one() -> None:
    # at 0.8 s the first utterance still plays; the second's first frames are already at the gateway
    loop = asyncio.get_running_loop()
    gateway = Gateway()
    sent: list[float] = []

    async def send(frame: np.ndarray) -> None:
        sent.append(loop.time())
        gateway.take(loop.time())

    playout = Playout(send, send_ahead_ms=400)
    runner = asyncio.create_task(playout.run())
    first, second = Utterance("a", interruptible=False), Utterance("b", interruptible=True)
    for utt in (first, second):
        utt.add(np.ones(16000, dtype=np.int16))
        utt.close()
        playout.play(utt)
    await asyncio.sleep(0.8)
    assert playout.playing(loop.time()) is first  # what the customer hears: not interruptible
    assert second.first_frame_at is not None and second.first_frame_at > loop.time()
    cut = playout.stop()
    at = loop.time()
    await asyncio.wait_for(playout.wait_idle(), 10)
    runner.cancel()
    assert cut is first and first.stopped and second.stopped
    assert playout.heard_ms(first, at) == 800 and playout.heard_ms(second, at) == 0
    assert all(t <= at for t in sent)  # nothing sent after the stop
