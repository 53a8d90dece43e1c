"""The turn detector: onset, barge-in threshold, adaptive end of turn, noise, resumption."""

from __future__ import annotations

import pytest

from agent.call.turns import (
    FRAME_MS,
    Discarded,
    EndOfTurn,
    Onset,
    Paused,
    Resumed,
    Sustained,
    TurnDetector,
    TurnPolicy,
)

POLICY = TurnPolicy(barge_in_min_ms=200, min_turn_ms=120, short_ms=250, long_ms=700, max_turn_ms=3000)


_CLOCK: dict[int, int] = {}  # stream time reached per detector, so runs continue in time


def run(pattern: list[tuple[bool, int]], detector: TurnDetector | None = None) -> list[object]:
    """Feed (speech?, duration_ms) runs; return every signal in order."""
    det = detector or TurnDetector(POLICY)
    t, out = _CLOCK.get(id(det), 0), []
    for speech, ms in pattern:
        for _ in range(ms // FRAME_MS):
            out.extend(det.push(speech, t))
            t += FRAME_MS
    _CLOCK[id(det)] = t
    return out


def kinds(signals: list[object]) -> list[type]:
    return [type(s) for s in signals]


def test_silence_alone_gives_nothing() -> None:
    assert run([(False, 5000)]) == []


def test_a_turn_ends_after_the_long_wait_when_not_complete() -> None:
    signals = run([(False, 100), (True, 800), (False, 1000)])
    assert kinds(signals) == [Onset, Sustained, Paused, EndOfTurn]
    end = signals[-1]
    assert isinstance(end, EndOfTurn)
    assert (end.onset_ms, end.end_ms) == (100, 900)
    assert end.at_ms == 900 + 700 and not end.fast


def test_a_complete_answer_ends_after_the_short_wait() -> None:
    det = TurnDetector(POLICY)
    run([(True, 400)], det)
    det.complete = True
    signals = run([(False, 400)], det)
    end = signals[-1]
    assert isinstance(end, EndOfTurn) and end.fast
    assert 250 <= end.at_ms - end.end_ms < 250 + FRAME_MS  # decided on the first frame past the wait


def test_speech_shorter_than_min_turn_is_discarded() -> None:
    signals = run([(True, 100), (False, 1000)])
    assert kinds(signals) == [Onset, Discarded]


@pytest.mark.parametrize(("speech_ms", "sustained"), [(180, False), (200, True), (600, True)])
def test_barge_in_needs_the_minimum_duration(speech_ms: int, sustained: bool) -> None:
    signals = run([(True, speech_ms), (False, 1000)])
    assert (Sustained in kinds(signals)) is sustained


def test_sustained_comes_exactly_at_the_threshold() -> None:
    signals = run([(True, 600)])
    sustained = [s for s in signals if isinstance(s, Sustained)]
    assert len(sustained) == 1 and sustained[0].at_ms - sustained[0].onset_ms == 200


def test_a_pause_shorter_than_the_wait_resumes_the_same_turn() -> None:
    signals = run([(True, 500), (False, 300), (True, 500), (False, 1000)])
    assert kinds(signals) == [Onset, Sustained, Paused, Resumed, Paused, EndOfTurn]
    end = signals[-1]
    assert isinstance(end, EndOfTurn) and (end.onset_ms, end.end_ms) == (0, 1300)


def test_resuming_speech_clears_completeness() -> None:
    det = TurnDetector(POLICY)
    run([(True, 400), (False, 100)], det)
    det.complete = True
    run([(True, 200)], det)
    assert det.complete is False
    signals = run([(False, 400)], det)
    assert not any(isinstance(s, EndOfTurn) for s in signals)  # needs the long wait again


def test_a_very_long_turn_is_cut_at_the_maximum() -> None:
    signals = run([(True, 4000)])
    ends = [s for s in signals if isinstance(s, EndOfTurn)]
    assert ends and ends[0].end_ms - ends[0].onset_ms == 3000


def test_silence_ms_counts_from_the_last_speech_frame() -> None:
    det = TurnDetector(POLICY)
    run([(True, 400), (False, 200)], det)
    assert det.silence_ms == 200 and det.in_turn
    det.reset()
    assert not det.in_turn and det.silence_ms == 0
