"""The ports of a call: what the session needs from engines, NLU, the gateway and the store.

Protocols only, so the real engines (agent/engines.py), the fakes (agent/testing/) and
any future engine are interchangeable without inheritance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from agent.asr.base import Transcript
from agent.audio.vad import VadFrame
from agent.tts.base import Speech

T = TypeVar("T")


class VadStreamPort(Protocol):
    """Per-call voice activity: one verdict per 20 ms frame.

    `submit` returns at once; `done(verdict)` runs on the calling event loop, once per frame
    and in the order submitted: at once (the model run inline, a fake) or later (the model on
    the VAD worker thread, agent/audio/vad_worker.py).
    """

    def submit(self, frame: np.ndarray, done: Callable[[VadFrame], None]) -> None: ...

    def close(self) -> None:
        """The call is over: verdicts still to come need not be delivered."""
        ...


class Recognizer(Protocol):
    """Speech recognition of one customer segment (model work runs off the event loop)."""

    async def transcribe(
        self, locale: str, pcm16k: np.ndarray, hint: str | None = None, partial: bool = False
    ) -> Transcript: ...


class Synthesizer(Protocol):
    """Speech synthesis of one sentence; `priority` is "high" (someone waits) or "low"."""

    async def synthesize(
        self, locale: str, text: str, priority: str = "high", *, due: float | None = None
    ) -> Speech: ...


class CallEngines(Recognizer, Synthesizer, Protocol):
    """Everything model-backed a call uses."""

    def new_vad_stream(self, *, enter: float = 0.5, leave: float = 0.35) -> VadStreamPort: ...

    def busy(self) -> bool:
        """True while model jobs are waiting for a worker (running transcripts then wait)."""
        ...

    def close(self) -> None:
        """Stop the model workers (at shutdown)."""
        ...


class Understood(Protocol):
    """What NLU made of one utterance."""

    @property
    def intent(self) -> str: ...

    @property
    def confidence(self) -> float: ...

    @property
    def slots(self) -> Mapping[str, str]: ...


class Nlu(Protocol):
    """Classify a final turn (may be slow: an encoder), judge a running one (rules: fast)."""

    def classify(
        self,
        text: str,
        expected: Sequence[str] | None = None,
        *,
        today: dt.date | None = None,
        runner_ups: Sequence[str] = (),
    ) -> Understood:
        """`runner_ups`: the recogniser's next-best readings of `text` (Transcript.runner_ups)."""
        ...

    def is_complete_answer(self, text: str, expected: Sequence[str]) -> bool: ...


class CallOutput(Protocol):
    """Outbound side of a transport, as the session sees it (all async, all non-blocking).

    `buffers_audio`: the gateway queues our audio and plays it in order, and `clear` takes back
    what it holds (so audio may be sent ahead of real time: call.gateway_lead_ms).
    """

    buffers_audio: bool

    async def audio(self, pcm16k: np.ndarray) -> None: ...

    async def clear(self) -> None: ...

    async def mark(self, name: str) -> None: ...

    async def hangup(self, reason: str) -> None: ...

    async def notify(self, event: Mapping[str, Any]) -> None: ...


class Offload(Protocol):
    """Runs a blocking function off the event loop (asyncio.to_thread; inline in tests)."""

    def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]: ...


async def inline(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """An Offload that runs the function on the loop (for fakes that cost nothing)."""
    return fn(*args, **kwargs)
