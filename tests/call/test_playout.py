"""Paced playout: real-time pacing with a small send-ahead, instant stop, heard time."""

from __future__ import annotations

import asyncio

import numpy as np

from agent.call.playout import Playout, Utterance


async def _play(seconds: float, *, stop_after: float | None = None) -> tuple[list[float], Utterance, Playout]:
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def send(frame: np.ndarray) -> None:
        assert len(frame) == 320
        sent.append(loop.time())

    playout = Playout(send, send_ahead_ms=60)
    runner = asyncio.create_task(playout.run())
    utt = Utterance("u1", interruptible=True)
    utt.add(np.ones(int(16000 * seconds), dtype=np.int16))
    utt.close()
    playout.play(utt)
    if stop_after is not None:
        await asyncio.sleep(stop_after)
        playout.stop()
    await asyncio.wait_for(playout.wait_idle(), 5)
    runner.cancel()
    return sent, utt, playout


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
