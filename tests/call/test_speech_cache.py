"""The shared speech cache: one synthesis per sentence, joins jobs in flight, LRU bound."""

from __future__ import annotations

import asyncio

import numpy as np

from agent.call.speech_cache import SpeechCache


class CountingSynth:
    """A synthesiser that counts its calls and takes a little time, like a real one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    async def __call__(self, locale: str, text: str, priority: str, due: float | None = None) -> np.ndarray:
        self.calls.append((locale, text, priority))
        await asyncio.sleep(0.01)
        return np.full(len(text), 7, dtype=np.int16)


async def test_second_request_is_a_hit() -> None:
    synth = CountingSynth()
    cache = SpeechCache(synth)
    a = await cache.get("en-US", "Hello.")
    b = await cache.get("en-US", "Hello.")
    assert a is b and len(synth.calls) == 1 and cache.hits == 1


async def test_prefetch_then_low_get_joins_the_job_in_flight() -> None:
    synth = CountingSynth()
    cache = SpeechCache(synth)
    cache.prefetch("en-US", "Goodbye.")
    pcm = await cache.get("en-US", "Goodbye.", priority="low")
    assert len(pcm) == len("Goodbye.") and synth.calls == [("en-US", "Goodbye.", "low")]


async def test_someone_waiting_for_a_prerender_promotes_it_to_high_priority() -> None:
    synth = CountingSynth()
    cache = SpeechCache(synth)
    cache.prefetch("en-US", "Hello.")
    pcm = await cache.get("en-US", "Hello.")
    assert len(pcm) == len("Hello.") and cache.promoted == 1
    assert sorted(p for _, _, p in synth.calls) == ["high", "low"]  # raced; the first result won
    high_first = SpeechCache(synth)
    high_first.prefetch("en-US", "Hi.", priority="high")
    await high_first.get("en-US", "Hi.")  # already high: joined, not restarted
    assert high_first.promoted == 0


async def test_locales_do_not_share_entries() -> None:
    synth = CountingSynth()
    cache = SpeechCache(synth)
    await cache.get("en-US", "OK.")
    await cache.get("zh-CN", "OK.")
    assert len(synth.calls) == 2


async def test_lru_bound() -> None:
    synth = CountingSynth()
    cache = SpeechCache(synth, max_entries=2)
    for text in ("a", "b", "c"):
        await cache.get("en-US", text)
    assert not cache.cached("en-US", "a") and cache.cached("en-US", "c")


async def test_a_cancelled_waiter_does_not_cancel_the_shared_job() -> None:
    synth = CountingSynth()
    cache = SpeechCache(synth)
    waiter = asyncio.ensure_future(cache.get("en-US", "Shared."))
    await asyncio.sleep(0)
    waiter.cancel()
    pcm = await cache.get("en-US", "Shared.")
    assert len(pcm) == len("Shared.") and len(synth.calls) == 1


async def test_a_failed_synthesis_is_not_cached() -> None:
    attempts = 0

    async def flaky(locale: str, text: str, priority: str, due: float | None = None) -> np.ndarray:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("boom")
        return np.zeros(3, dtype=np.int16)

    cache = SpeechCache(flaky)
    try:
        await cache.get("en-US", "x")
    except RuntimeError:
        pass
    assert len(await cache.get("en-US", "x")) == 3
