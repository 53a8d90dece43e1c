"""The bench's customer-side audio measures, on hand-made runs of audio."""

from __future__ import annotations

import numpy as np

from agent.bench.audio import first_audio_ms, stopped_after_ms, stretches, turn_gaps_ms


def run(start_ms: int, ms: int) -> tuple[int, np.ndarray]:
    return start_ms * 16, np.ones(ms * 16, dtype=np.int16)


def test_frames_join_into_stretches_and_the_first_is_the_first_audio() -> None:
    played = [run(300, 20), run(320, 20), run(340, 20), run(1000, 500)]
    spans = stretches(played)
    assert spans == [(300.0, 360.0), (1000.0, 1500.0)]
    assert first_audio_ms(spans) == 300 and first_audio_ms([]) is None


def test_a_gap_inside_a_turn_counts_but_a_pause_at_a_turn_boundary_does_not() -> None:
    spans = stretches([run(0, 1000), run(4300, 1000), run(9000, 500), run(9600, 500)])
    # the customer spoke at 6000 ms: the 3.3 s gap is inside the first turn, 100 ms in the second
    assert turn_gaps_ms(spans, [6000]) == [3300, 100]


def test_a_turn_end_heard_before_the_tail_played_still_ends_the_turn() -> None:
    spans = stretches([run(0, 1000), run(1050, 1000), run(8100, 500)])
    # "played" reached the client at 1900 ms, while its buffer still held the tail: the 6 s
    # before the reprompt is between turns; the 50 ms inside the first turn still counts
    assert turn_gaps_ms(spans, [1900]) == [50]


def test_key_to_silence() -> None:
    spans = stretches([run(0, 3000)])
    assert stopped_after_ms(spans, 2500) == 500
    assert stopped_after_ms(spans, 3500) == 0
