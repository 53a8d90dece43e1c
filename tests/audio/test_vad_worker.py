"""The VAD worker thread: every call's verdicts, back on its loop, in order, as its own stream gives them."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from agent.audio.frames import split_frames
from agent.audio.vad import SileroVad, VadFrame
from agent.audio.vad_worker import VadWorker


def _calls(speech: list[np.ndarray]) -> list[np.ndarray]:
    """Different lines: each phrase after a different lead of silence, over line hiss."""
    out = []
    for i, pcm in enumerate(speech):
        rng = np.random.default_rng(i)
        line = np.concatenate([np.zeros(3200 * (i + 1), np.int16), pcm, np.zeros(8000, np.int16)])
        out.append((line + rng.normal(0, 30, len(line))).clip(-32768, 32767).astype(np.int16))
    return out


async def _through_worker(worker: VadWorker, lines: list[np.ndarray], **kw: Any) -> list[list[VadFrame]]:
    """Submit the lines' frames interleaved (as the calls' media comes in); collect verdicts per line."""
    streams = [worker.stream(**kw) for _ in lines]
    got: list[list[VadFrame]] = [[] for _ in lines]
    frames = [split_frames(pcm) for pcm in lines]
    loop = asyncio.get_running_loop()
    thread_ok = []
    for k in range(max(len(f) for f in frames)):
        for i, stream in enumerate(streams):
            if k < len(frames[i]):
                def done(v: VadFrame, i: int = i) -> None:
                    thread_ok.append(asyncio.get_running_loop() is loop)
                    got[i].append(v)
                stream.submit(frames[i][k], done)
        if k % 3 == 0:
            await asyncio.sleep(0.002)  # some rounds see one frame a call, some several
    for _ in range(500):
        if all(len(g) == len(f) for g, f in zip(got, frames, strict=True)):
            break
        await asyncio.sleep(0.01)
    assert all(thread_ok)  # every verdict was delivered on the submitting loop
    return got


@pytest.mark.models
async def test_batched_verdicts_are_each_streams_own(vad_model: SileroVad, piper_en: Any) -> None:
    phrases = ["Yes, this is John.", "I will pay on Friday.", "Please stop calling me.", "Who is this?"]
    lines = _calls([piper_en.synthesize(text).pcm16k for text in phrases])
    worker = VadWorker(vad_model)
    try:
        got = await _through_worker(worker, lines, enter=0.5, leave=0.35)
    finally:
        worker.close()
    assert worker.windows > worker.rounds  # calls shared model calls
    for pcm, verdicts in zip(lines, got, strict=True):
        alone = vad_model.stream(enter=0.5, leave=0.35)
        expected = [alone.push(f) for f in split_frames(pcm)]
        assert len(verdicts) == len(expected)  # one verdict a frame, none lost or doubled
        assert np.allclose([v.prob for v in verdicts], [e.prob for e in expected], atol=1e-4)
        assert [v.speech for v in verdicts] == [e.speech for e in expected]
        assert any(e.speech for e in expected)  # the lines do have speech in them


class _Model:
    """Stands in for Silero: probability = the window's loudest sample; can be told to fail."""

    def __init__(self) -> None:
        self.fail = False
        self.batches: list[int] = []

    def infer_batch(self, windows: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.fail:
            raise RuntimeError("model broke")
        self.batches.append(len(windows))
        return np.abs(windows).max(axis=1), states + 1


def _frame(level: float) -> np.ndarray:
    return np.full(320, int(level * 32767), dtype=np.int16)


async def _settle(cond: Any) -> None:
    for _ in range(500):
        if cond():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the worker did not deliver")


async def test_verdicts_keep_each_calls_frame_order_with_hysteresis() -> None:
    model = _Model()
    worker = VadWorker(model)  # type: ignore[arg-type]
    a, b = worker.stream(enter=0.5, leave=0.35), worker.stream(enter=0.5, leave=0.35)
    got: dict[str, list[tuple[int, bool]]] = {"a": [], "b": []}
    levels = [0.0, 0.9, 0.9, 0.4, 0.4, 0.4, 0.1, 0.1, 0.0, 0.0]
    try:
        for k, level in enumerate(levels):
            a.submit(_frame(level), lambda v, k=k: got["a"].append((k, v.speech)))
            b.submit(_frame(0.0), lambda v, k=k: got["b"].append((k, v.speech)))
        await _settle(lambda: len(got["a"]) == len(got["b"]) == len(levels))
    finally:
        worker.close()
    assert [k for k, _ in got["a"]] == list(range(len(levels)))  # in the order submitted
    assert not any(s for _, s in got["b"])
    # windows of 512 samples over 320-sample frames: a verdict follows the last complete window,
    # and once in speech it holds until the probability falls under `leave`
    assert any(s for _, s in got["a"]) and not got["a"][0][1] and not got["a"][-1][1]


async def test_a_closed_call_gets_no_more_verdicts() -> None:
    worker = VadWorker(_Model())  # type: ignore[arg-type]
    a, b = worker.stream(), worker.stream()
    got: list[str] = []
    try:
        a.close()
        for _ in range(5):
            a.submit(_frame(0.9), lambda v: got.append("a"))
            b.submit(_frame(0.9), lambda v: got.append("b"))
        await _settle(lambda: got.count("b") == 5)
        await asyncio.sleep(0.05)
    finally:
        worker.close()
    assert "a" not in got


async def test_a_failing_model_gives_silence_and_the_worker_goes_on() -> None:
    model = _Model()
    worker = VadWorker(model)  # type: ignore[arg-type]
    stream = worker.stream()
    got: list[VadFrame] = []
    try:
        model.fail = True
        for _ in range(5):
            stream.submit(_frame(0.9), got.append)
        await _settle(lambda: len(got) == 5)
        assert not any(v.speech for v in got) and worker.failures >= 1
        model.fail = False
        for _ in range(5):
            stream.submit(_frame(0.9), got.append)
        await _settle(lambda: len(got) == 10)
    finally:
        worker.close()
    assert got[-1].speech  # the next frames are judged again


async def test_many_calls_share_one_model_call_a_round() -> None:
    model = _Model()
    worker = VadWorker(model)  # type: ignore[arg-type]
    streams = [worker.stream() for _ in range(16)]
    got: list[bool] = []
    loop = asyncio.get_running_loop()
    with worker._cond:  # hold the worker while 16 calls each send 8 frames (a round of the loop)
        for stream in streams:
            for _ in range(8):
                stream._inbox.append((_frame(0.9), lambda v: got.append(v.speech), loop))
            stream._queued = True
            worker._ready.append(stream)
        worker._cond.notify()
    try:
        await _settle(lambda: len(got) == 16 * 8)
    finally:
        worker.close()
    assert max(model.batches) == 16  # one model call ran a window of every call
    assert sum(model.batches) == 16 * (8 * 320 // 512)
