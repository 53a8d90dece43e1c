"""Runner-up doubt: an opt-out only the recogniser's next-best reading heard is asked, never persisted."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.nlu.factory import NluPipeline, build_nlu
from agent.nlu.intents import OPT_OUT, OPT_OUT_CERTAIN, UNKNOWN, Intent, NluResult
from agent.nlu.runner_up import RUNNER_UP_CONFIDENCE, runner_up_doubt

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@pytest.fixture(scope="module")
def en() -> NluPipeline:
    return build_nlu("en-US", PROMPTS, semantic=False)


@pytest.fixture(scope="module")
def zh() -> NluPipeline:
    return build_nlu("zh-CN", PROMPTS, semantic=False)


def test_a_lost_first_word_kept_by_a_runner_up_is_a_doubtful_opt_out(en: NluPipeline) -> None:
    assert en.classify("call me again").intent == UNKNOWN
    got = en.classify("call me again", runner_ups=("Call me again.", "Don't call me again."))
    assert got.intent == OPT_OUT and got.doubtful
    assert got.confidence == RUNNER_UP_CONFIDENCE < OPT_OUT_CERTAIN
    assert got.scope == "all"


def test_the_best_readings_intent_is_kept_in_also(en: NluPipeline) -> None:
    got = en.classify("call me next week", runner_ups=("never call me again",))
    assert got.intent == OPT_OUT and got.doubtful and got.also == (Intent.CALLBACK_LATER,)


def test_a_runner_ups_medium_scope_travels_with_the_doubt(en: NluPipeline) -> None:
    got = en.classify("email me from now on", runner_ups=("only email me from now on",))
    assert got.intent == OPT_OUT and got.doubtful and got.scope == "voice"


def test_runner_ups_never_change_an_opt_out_or_a_turn_none_of_them_opts_out(en: NluPipeline) -> None:
    certain = en.classify("don't call me again", runner_ups=("call me again",))
    assert certain == en.classify("don't call me again") and not certain.doubtful
    plain = en.classify("I already paid", runner_ups=("I already paid.", "I have already paid"))
    assert plain == en.classify("I already paid")
    assert en.classify("call me next week", runner_ups=()) == en.classify("call me next week")


def test_mandarin_garble_kept_by_a_runner_up(zh: NluPipeline) -> None:
    assert zh.classify("给我打电话").intent == UNKNOWN
    got = zh.classify("给我打电话", runner_ups=("我号码", "别给我打电话"))
    assert got.intent == OPT_OUT and got.doubtful and got.scope == "all"
    assert zh.classify("我下周再还", runner_ups=("我下周在还",)).intent == "promise_to_pay"


def _reader(table: dict[str, NluResult]):  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def read(text: str) -> NluResult:
        seen.append(text)
        return table.get(text, NluResult(UNKNOWN, 0.0))

    return read, seen


def test_a_weak_runner_up_opt_out_does_not_raise_the_doubt() -> None:
    read, _ = _reader({"weak": NluResult(OPT_OUT, 0.65), "strong": NluResult(OPT_OUT, 0.95)})
    best = NluResult(UNKNOWN, 0.0)
    assert runner_up_doubt(best, ["weak"], read, strong=0.7) is best
    assert runner_up_doubt(best, ["weak"], read, strong=0.6).intent == OPT_OUT
    assert runner_up_doubt(best, ["weak", "strong"], read, strong=0.9).doubtful


def test_the_best_reading_stands_when_it_is_an_opt_out_or_yields_nothing() -> None:
    read, seen = _reader({"stop": NluResult(OPT_OUT, 0.95)})
    certain = NluResult(OPT_OUT, 0.95)
    assert runner_up_doubt(certain, ["stop"], read) is certain and not seen
    paid = NluResult(Intent.ALREADY_PAID, 0.95)
    assert runner_up_doubt(paid, ["stop"], read, yields_to={Intent.ALREADY_PAID}) is paid and not seen
    assert runner_up_doubt(paid, ["", "stop"], read).also == (Intent.ALREADY_PAID,)
    assert seen == ["stop"]  # an empty runner-up is not read


def test_runner_ups_are_read_by_the_rules_unless_the_encoder_is_asked_for(en: NluPipeline) -> None:
    import dataclasses

    full = dataclasses.replace(en, runner_up_encoder=True)  # no semantic layer here: the same rules
    for nlu in (en, full):
        got = nlu.classify("call me again", runner_ups=("Don't call me again.",))
        assert got.intent == OPT_OUT and got.doubtful
