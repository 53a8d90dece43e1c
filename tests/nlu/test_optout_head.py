"""The learned opt-out head: features, the fit, the stored weights, and its place in the pipeline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from agent.nlu.factory import HEAD_FILE, NluPipeline
from agent.nlu.head import OptOutHead, bag_of_ngrams, fit_logistic
from agent.nlu.intents import OPT_OUT, OPT_OUT_SCOPE_SLOT
from agent.nlu.rules import RuleNlu
from agent.nlu.semantic import CharNgramEncoder, Exemplars, SemanticNlu

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "train_optout_head", ROOT / "scripts" / "train_optout_head.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ngrams_are_binary_stable_and_locale_aware() -> None:
    en = bag_of_ngrams(["stop calling me", "stop calling me", "call me later"], cjk=False, dim=512)
    assert en.shape == (3, 512) and set(np.unique(en)) <= {0.0, 1.0}
    assert (en[0] == en[1]).all() and (en[0] != en[2]).any()
    zh = bag_of_ngrams(["别再打了", "别再打了！"], cjk=True, dim=512)
    assert (zh[0] == zh[1]).all()  # punctuation is not an n-gram
    assert zh[0].sum() == 4 + 3 + 2  # 1-, 2- and 3-grams of four characters (no collisions here)


@pytest.mark.parametrize(("rows", "cols"), [(120, 20), (60, 300)])
def test_fit_reaches_the_regularised_optimum(rows: int, cols: int) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, cols))
    y = (x[:, 0] + 0.3 * rng.normal(size=rows) > 0).astype(float)
    mean, scale, w, b = fit_logistic(x, y, l2=2.0)
    z = np.hstack([(x - mean) / scale, np.ones((rows, 1))])
    theta = np.r_[w, b]
    p = 1 / (1 + np.exp(-(z @ theta)))
    weight = np.where(y == 1, rows / (2 * y.sum()), rows / (2 * (rows - y.sum())))
    assert np.abs(z.T @ (weight * (p - y)) + 2.0 * theta).max() < 1e-6  # the gradient vanishes
    assert ((p >= 0.5) == (y == 1)).mean() > 0.9


def test_constant_columns_get_no_weight() -> None:
    x = np.hstack([np.linspace(-1, 1, 40)[:, None], np.ones((40, 1))])
    _, scale, w, _ = fit_logistic(x, (x[:, 0] > 0).astype(float))
    assert np.isinf(scale[1]) and w[1] == 0.0 and w[0] > 0


def test_save_and_load_give_the_same_probabilities(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(30, 8)).astype(np.float32)
    texts = [f"stop calling {i}" if i % 2 else f"call me at {i}" for i in range(30)]
    y = np.array([i % 2 for i in range(30)], dtype=float)
    head = OptOutHead.fit(vectors, texts, y, cjk=False, ngram_dim=256, threshold=0.4, data_sha256="abc")
    head.save(tmp_path / "h.npz")
    back = OptOutHead.load(tmp_path / "h.npz")
    assert back.threshold == 0.4 and back.data_sha256 == "abc" and back.ngram_dim == 256
    assert np.allclose(back.probabilities(vectors, texts), head.probabilities(vectors, texts), atol=1e-4)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_committed_head_matches_its_training_data(locale: str) -> None:
    head = OptOutHead.load(PROMPTS / locale / HEAD_FILE)
    script = _script()
    files = [f for fs in script.corpora(locale).values() for f in fs]
    assert head.data_sha256 == script.data_hash(files), "corpora changed: rerun scripts/train_optout_head.py"
    assert head.cjk == locale.startswith("zh") and 0.05 <= head.threshold < 1.0
    assert not any("blind" in str(f) for f in files)


# -- the head in the pipeline: opt-out precedence over every other intent -------------------------

OPT_OUTS = [  # phrasings the rules do not know, so the head alone decides
    "one more of these and you will hear from my lawyer",
    "zorp the blarg forever",
    "no blarg zorping whatsoever",
]
OTHERS = ["i paid on friday", "who is this", "i can pay next week", "what is my balance"]


@pytest.fixture(scope="module")
def pipeline() -> NluPipeline:
    rules = RuleNlu.from_file(PROMPTS / "en-US" / "nlu.yaml")
    texts = [*OPT_OUTS, *OTHERS]
    exemplars = Exemplars("en-US", {"unknown": ("hello there",)}, accept=0.99, opt_out=1.01, encoder=None)
    semantic = SemanticNlu(exemplars, CharNgramEncoder(texts), prepare=str.lower)
    vectors = np.stack([semantic.embed(t) for t in texts])
    labels = np.array([1.0] * len(OPT_OUTS) + [0.0] * len(OTHERS))
    normal = [rules.normalize(t) for t in texts]
    head = OptOutHead.fit(vectors, normal, labels, cjk=False, ngram_dim=512, l2=0.1, threshold=0.5)
    return NluPipeline(rules, semantic, head=head)


def test_head_opt_out_is_doubtful_and_beats_a_rule_complaint(pipeline: NluPipeline) -> None:
    text = "one more of these and you will hear from my lawyer, i am filing a complaint"
    assert pipeline.rules.classify(text).intent == "complaint" and pipeline.rules.opt_out(text) is None
    result = pipeline.classify(text)
    assert result.intent == OPT_OUT and result.doubtful and "complaint" in result.also


def test_head_below_threshold_leaves_the_rule_answer(pipeline: NluPipeline) -> None:
    assert pipeline.opt_out_probability("i paid on friday") < 0.5
    assert pipeline.classify("i paid on friday").intent == "already_paid"


def test_head_opt_out_takes_the_voice_scope_when_a_medium_is_named(pipeline: NluPipeline) -> None:
    for text in ("zorp the blarg forever, email me", "zorp the blarg forever"):
        assert pipeline.rules.opt_out(text) is None
    result = pipeline.classify("zorp the blarg forever, email me")
    assert result.intent == OPT_OUT and result.doubtful and result.slots[OPT_OUT_SCOPE_SLOT] == "voice"
    assert pipeline.classify("zorp the blarg forever").slots[OPT_OUT_SCOPE_SLOT] == "all"


def test_without_a_head_the_probability_is_zero() -> None:
    rules = RuleNlu.from_file(PROMPTS / "en-US" / "nlu.yaml")
    assert NluPipeline(rules).opt_out_probability("stop calling me") == 0.0


def test_with_a_head_a_nearest_exemplar_opt_out_needs_the_head_to_agree(pipeline: NluPipeline) -> None:
    text = "i can pay next week"
    exemplars = Exemplars(
        "en-US", {"opt_out": (text,), "unknown": ("hello there",)}, accept=0.5, opt_out=0.5, encoder=None
    )
    semantic = SemanticNlu(exemplars, CharNgramEncoder([*OPT_OUTS, *OTHERS]), prepare=str.lower)
    assert semantic.classify(text).intent == OPT_OUT  # the exemplar layer alone would say opt_out
    assert NluPipeline(pipeline.rules, semantic).classify(text).intent == OPT_OUT
    gated = NluPipeline(pipeline.rules, semantic, head=pipeline.head)
    assert gated.opt_out_probability(text) < 0.5 and gated.classify(text).intent != OPT_OUT


def test_an_exemplar_opt_out_the_head_refused_is_not_the_semantic_answer(pipeline: NluPipeline) -> None:
    text = "what is my balance"  # the rules know nothing of it, so the semantic answer would be used
    exemplars = Exemplars(
        "en-US", {"opt_out": (text,), "unknown": ("hello there",)}, accept=0.5, opt_out=0.5, encoder=None
    )
    semantic = SemanticNlu(exemplars, CharNgramEncoder([*OPT_OUTS, *OTHERS]), prepare=str.lower)
    assert semantic.classify(text).intent == OPT_OUT and pipeline.rules.classify(text).intent == "unknown"
    gated = NluPipeline(pipeline.rules, semantic, head=pipeline.head)
    assert gated.opt_out_probability(text) < 0.5 and gated.classify(text).intent != OPT_OUT


@pytest.mark.parametrize(
    ("locale", "talk", "contact"),
    [
        ("en-US", "please stop interrupting me", "please stop interrupting me with these calls"),
        ("en-US", "just stop repeating yourself", "just stop repeating yourself and take my number off"),
        ("zh-CN", "你别再打断我", "你别再打断我，以后也别打了"),
        ("zh-CN", "别再念了", "别再念了，把我号码删了"),
        ("zh-CN", "这会儿别打扰我，明天再联系", "以后别打扰我了"),  # a frame voided by a time limiter
        ("en-US", "please don't call my wife", "please don't call me"),  # ... and a third party
    ],
)
def test_a_learned_opt_out_needs_more_than_stopping_the_talk(locale: str, talk: str, contact: str) -> None:
    rules = RuleNlu.from_file(PROMPTS / locale / "nlu.yaml")
    texts = [talk, contact, *OTHERS]
    exemplars = Exemplars(locale, {"unknown": ("hello there",)}, accept=0.99, opt_out=1.01, encoder=None)
    prepare = rules.normalize if rules.cjk else str.lower
    semantic = SemanticNlu(exemplars, CharNgramEncoder([prepare(t) for t in texts]), prepare=prepare)
    vectors = np.stack([semantic.embed(t) for t in texts])
    labels = np.array([1.0, 1.0] + [0.0] * len(OTHERS))  # a head that learned the talk itself as an opt-out
    head = OptOutHead.fit(vectors, [rules.normalize(t) for t in texts], labels, cjk=rules.cjk, ngram_dim=512,
                          l2=0.1, threshold=0.5)
    nlu = NluPipeline(rules, semantic, head=head)
    assert nlu.opt_out_probability(talk) >= 0.5 and rules.refuses_a_learned_opt_out(talk)
    assert nlu.classify(talk).intent != OPT_OUT
    assert nlu.classify(contact).intent == OPT_OUT
