"""The semantic layer: MiniLM for en-US (models), character n-grams for zh-CN, and the pipeline rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from agent.nlu.factory import build_nlu
from agent.nlu.semantic import CharNgramEncoder, Exemplars, SemanticNlu

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"
TODAY = dt.date(2025, 3, 5)


def test_exemplars_files_load_with_thresholds() -> None:
    for locale in ("en-US", "zh-CN"):
        ex = Exemplars.load(PROMPTS / locale / "nlu_exemplars.yaml")
        assert ex.locale == locale
        assert 0.0 < ex.accept < ex.opt_out <= 1.0
        assert "opt_out" in ex.intents and "unknown" in ex.intents


def test_char_ngrams_are_unit_vectors_and_rank_overlap_first() -> None:
    enc = CharNgramEncoder(["不要再打了", "我周五还", "转人工"])
    vecs = enc.encode(["别再打了", "周五还钱", "随便说说"])
    base = enc.encode(["不要再打了", "我周五还", "转人工"])
    assert np.allclose(np.linalg.norm(base, axis=1), 1.0, atol=1e-5)  # no unseen n-grams
    assert (np.linalg.norm(vecs, axis=1) < 1.0).all()  # unseen n-grams lower the similarity
    assert int(np.argmax(base @ vecs[0])) == 0
    assert int(np.argmax(base @ vecs[1])) == 1


def test_semantic_opt_out_needs_the_stricter_threshold() -> None:
    ex = Exemplars(
        "zh-CN",
        {"opt_out": ("别再打了",), "callback_later": ("晚点再打",), "unknown": ("喂",)},
        accept=0.2,
        opt_out=0.99,
        encoder=None,
    )
    layer = SemanticNlu(ex, CharNgramEncoder([t for v in ex.intents.values() for t in v]))
    assert layer.classify("别再打了吧").intent != "opt_out"
    strict = SemanticNlu(ex, CharNgramEncoder([t for v in ex.intents.values() for t in v]), opt_out=0.5)
    assert strict.classify("别再打了吧").intent == "opt_out"


ZH_CASES = [
    ("把我号码删了", "opt_out"),
    ("你们这是骚扰电话", "opt_out"),
    ("别再打了", "opt_out"),
    ("不要再打了", "opt_out"),
    ("別再打了", "opt_out"),
    ("你們這是騷擾電話", "opt_out"),
    ("别在打了", "opt_out"),
    ("把我号码山了", "opt_out"),
    ("别挂", "unknown"),
    ("晚点再打", "callback_later"),
    ("我现在还不上", "hardship"),
    ("你是机器人吗", "ask_is_ai"),
    ("我要投诉", "complaint"),
    ("转人工", "request_human"),
]


@pytest.mark.parametrize(("text", "intent"), ZH_CASES)
def test_zh_pipeline(text: str, intent: str) -> None:
    assert build_nlu("zh-CN", PROMPTS).classify(text, today=TODAY).intent == intent


def test_zh_slots_through_pipeline() -> None:
    nlu = build_nlu("zh-CN", PROMPTS)
    result = nlu.classify("下个月5号还", ["promise_to_pay"], today=TODAY)
    assert result.intent == "promise_to_pay" and result.slots == {"date": "2025-04-05"}
    result = nlu.classify("明天下午三点打给我", today=TODAY)
    assert result.intent == "callback_later" and result.slots == {"time": "2025-03-06T15:00"}
    assert nlu.is_complete_answer("是的", ["affirm", "deny"])
    assert not nlu.is_complete_answer("是的但是", ["affirm", "deny"])


@pytest.fixture(scope="module")
def en_nlu() -> object:
    return build_nlu("en-US", PROMPTS)


@pytest.mark.models
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("i'm sick of these calls stop it", "opt_out"),  # the rules alone say hardship
        ("quit ringing my phone", "opt_out"),
        ("call me later", "callback_later"),
        ("i can't pay now", "hardship"),
        ("don't hang up", "unknown"),
        ("i owe nothing to you people", "dispute"),
    ],
)
def test_en_pipeline(en_nlu: object, text: str, intent: str) -> None:
    assert en_nlu.classify(text, today=TODAY).intent == intent  # type: ignore[attr-defined]


@pytest.mark.models
def test_en_encoder_unit_vectors_and_slots(en_nlu: object) -> None:
    """Latency is measured by scripts/bench_nlu.py, not asserted here."""
    layer = en_nlu.semantic  # type: ignore[attr-defined]
    assert layer is not None
    vector = layer.embed("i'm not sure i can make it by then")
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3
    assert layer.embed("i'm not sure i can make it by then") is vector  # the head reuses the scores' vector
    result = en_nlu.classify("i'll pay on friday", ["promise_to_pay"], today=TODAY)  # type: ignore[attr-defined]
    assert result.intent == "promise_to_pay" and result.slots == {"date": "2025-03-07"}
