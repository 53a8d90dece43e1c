"""What the customer heard, from its side of the wire: first audio, gaps in a turn, key-to-stop.

Pure functions over the agent audio a link played ((start sample at 16 kHz, pcm) runs, as
agent.demo.links gives them, already cut at every `clear`) and the customer's own moments.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

RATE = 16000
JOIN_MS = 1.0  # audio runs closer than this are one stretch (frame boundaries)


def stretches(played: Iterable[tuple[int, np.ndarray]]) -> list[tuple[float, float]]:
    """(start ms, end ms) of continuous agent audio, merged, in time order."""
    spans = sorted((s * 1000 / RATE, (s + len(pcm)) * 1000 / RATE) for s, pcm in played if len(pcm))
    out: list[tuple[float, float]] = []
    for start, end in spans:
        if out and start - out[-1][1] <= JOIN_MS:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def first_audio_ms(spans: Sequence[tuple[float, float]]) -> int | None:
    """When the customer first heard the agent, in ms since the call connected."""
    return int(spans[0][0]) if spans else None


def turn_gaps_ms(spans: Sequence[tuple[float, float]], boundaries_ms: Iterable[float]) -> list[int]:
    """The longest silence inside each agent turn; turns are split at `boundaries_ms`.

    Boundaries are the moments an agent turn may rightly pause: the customer spoke or
    pressed a key, audio was cleared, or the server said the turn had played out. A
    boundary while the earlier stretch still plays counts too: on a loaded client the
    buffer runs late, so the server's "played" can arrive before the tail has played.
    """
    cuts = sorted(boundaries_ms)
    gaps: dict[int, int] = {}
    for (before, end), (start, _) in itertools.pairwise(spans):
        if any(before < cut <= start for cut in cuts):
            continue  # a turn ended between these two stretches
        turn = sum(1 for cut in cuts if cut < start)
        gaps[turn] = max(gaps.get(turn, 0), int(start - end))
    return [gaps[k] for k in sorted(gaps)]


def stopped_after_ms(spans: Sequence[tuple[float, float]], at_ms: float) -> int:
    """How long agent audio went on after `at_ms` (0 if none was playing)."""
    for start, end in spans:
        if start <= at_ms < end:
            return int(end - at_ms)
    return 0


def key_stop_ms(spans: Sequence[tuple[float, float]], clears_ms: Sequence[int], press_ms: float) -> int:
    """Key press → agent audio taken back: the first clear after the press, else the audio's stop.

    A clear ends what was playing even when the confirmation follows without a pause (its audio
    cached), which would otherwise join the two into one stretch of sound.
    """
    after = [c for c in clears_ms if c >= press_ms]
    return int(after[0] - press_ms) if after else stopped_after_ms(spans, press_ms)
