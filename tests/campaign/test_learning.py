"""Answer-hour learning: a Beta posterior per hour of the week with a population prior."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.campaign.learning import HOURS, KERNEL, AnswerCounts, Prior, hour_of_week, posterior


def test_no_evidence_gives_the_prior() -> None:
    prior = Prior.flat(0.25)
    mean, sd = posterior(AnswerCounts(), prior)
    assert np.allclose(mean, 0.25) and np.all(sd > 0)


def test_answers_at_an_hour_raise_it_and_its_daily_routine() -> None:
    counts = AnswerCounts()
    tue19 = hour_of_week(1, 19)
    for _ in range(3):
        counts.add(tue19, True)
    counts.add(hour_of_week(1, 10), False)
    mean, _ = posterior(counts, Prior.flat(0.3))
    assert mean[tue19] > 0.6
    assert mean[hour_of_week(2, 19)] > 0.4  # same hour on another weekday
    assert mean[hour_of_week(5, 19)] == pytest.approx(0.3)  # weekend is another routine
    assert mean[hour_of_week(1, 10)] < 0.3
    assert int(np.argmax(mean)) == tue19


def test_population_prior_follows_the_pooled_rates() -> None:
    pop = AnswerCounts()
    for day in range(5):
        for _ in range(50):
            pop.add(hour_of_week(day, 12), True)
            pop.add(hour_of_week(day, 9), False)
    prior = Prior.from_population(pop)
    assert prior.mean[hour_of_week(0, 12)] > 0.8
    assert prior.mean[hour_of_week(0, 9)] < 0.1


@given(st.lists(st.tuples(st.integers(0, HOURS - 1), st.booleans()), max_size=60))
def test_posterior_is_a_probability_and_round_trips(obs: list[tuple[int, bool]]) -> None:
    counts = AnswerCounts()
    for how, yes in obs:
        counts.add(how, yes)
    mean, sd = posterior(counts, Prior.flat())
    assert np.all((mean > 0) & (mean < 1)) and np.all(sd >= 0)
    again = AnswerCounts.from_pairs(counts.to_pairs())
    assert np.array_equal(again.answered, counts.answered)
    assert counts.attempts == len(obs)


def test_kernel_counts_each_attempt_fully_at_its_own_hour() -> None:
    assert np.allclose(np.diag(KERNEL), 1.0)
    with pytest.raises(ValueError):
        hour_of_week(7, 0)
