"""The dev corpora through the whole NLU (rules + semantic): opt-out recall, false opt-outs, accuracy.

Floors are what was measured when the thresholds were calibrated, minus a margin:
en-US dev 0.975, held-out 0.940; zh-CN dev 0.997, held-out 0.973. The `unseen` sets were
written later by someone else, blind to the lexicons; first measured at en-US 0.93
accuracy / 0.95 opt-out recall, zh-CN 0.90 / 0.875, then the general gaps they showed
(list-removal phrasings, mis-heard 'calling', bare 'stop', 拒绝接听) were fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.cli.nlu import evaluate, read_tsv
from agent.nlu.factory import build_nlu

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

FLOORS = {
    ("en-US", "dev"): 0.94,
    ("en-US", "heldout"): 0.88,
    ("zh-CN", "dev"): 0.96,
    ("zh-CN", "heldout"): 0.92,
    ("en-US", "unseen"): 0.90,
    ("zh-CN", "unseen"): 0.88,
}


def _corpus(locale: str, split: str) -> list[tuple[str, str]]:
    name = f"corpus_{locale}.tsv" if split == "dev" else f"corpus_{locale}_{split}.tsv"
    return read_tsv(HERE / name)


@pytest.fixture(scope="module")
def nlus() -> dict[str, object]:
    return {}


def _nlu(cache: dict[str, object], locale: str) -> object:
    if locale not in cache:
        cache[locale] = build_nlu(locale, ROOT / "prompts")
    return cache[locale]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_corpus_size_and_labels(locale: str) -> None:
    rows = _corpus(locale, "dev")
    assert len(rows) >= 300
    labels = {intent for _, intent in rows}
    assert {"opt_out", "callback_later", "hardship", "unknown"} <= labels
    assert len(_corpus(locale, "heldout")) >= 100


@pytest.mark.parametrize(
    ("locale", "split"),
    [
        pytest.param("en-US", "dev", marks=pytest.mark.models),
        pytest.param("en-US", "heldout", marks=pytest.mark.models),
        pytest.param("en-US", "unseen", marks=pytest.mark.models),
        ("zh-CN", "dev"),
        ("zh-CN", "heldout"),
        ("zh-CN", "unseen"),
    ],
)
def test_corpus(nlus: dict[str, object], locale: str, split: str) -> None:
    report = evaluate(_nlu(nlus, locale), _corpus(locale, split))
    assert report["false_opt_out_rate"] <= 0.02, report["errors"]
    if split in ("dev", "unseen"):
        assert report["opt_out_recall"] == 1.0, [e for e in report["errors"] if e["gold"] == "opt_out"]
    assert report["accuracy"] >= FLOORS[(locale, split)], report["errors"]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_rules_alone_never_false_opt_out_on_dev(locale: str) -> None:
    report = evaluate(build_nlu(locale, ROOT / "prompts", semantic=False), _corpus(locale, "dev"))
    assert report["false_opt_out_rate"] == 0.0
