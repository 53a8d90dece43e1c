"""Train the learned opt-out head (agent/nlu/head.py) per locale; measure how it generalises.

Training data: the writer-A and writer-B corpora (tests/nlu/train), the external dev set
(tests/nlu/external) and the team's corpora (tests/nlu/corpus_<locale>*.tsv). Never the
frozen blind sets. Each row's group is its writer (A, B, external, team); its family is its
`#` block. The decision threshold is never chosen on the rows it is measured on: it is the
lowest on a grid whose out-of-fold predictions (family-grouped folds of the training rows)
add at most --added-false false opt-outs (a share of the negatives) to those the rules
already make. The pipeline is simulated as agent/nlu/factory.py runs it: rules, then the head
at its threshold, then a nearest-exemplar opt-out only where the head gives P >= 0.5; neither
of the two where the rules refuse a learned opt-out (head_gate, a voided frame).
Reported, with the full pipeline (rules + exemplars + head):

- cross-writer: trained on writer A, tested on writer B, and the reverse;
- leave-one-writer-out over the four groups;
- family-grouped 5-fold over every row (each family tested by a head that never saw it);
- the pipeline without the head, on the same rows.

Then the head is fitted on every row and written to prompts/<locale>/nlu_optout_head.npz
with the sha256 of the corpora; the report goes to --json.

Usage: python scripts/train_optout_head.py [--locale en-US] [--json out/optout_head.json] [--dry-run]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from agent.nlu.factory import EXEMPLAR_NEEDS_HEAD, HEAD_FILE, NluPipeline, build_nlu  # noqa: E402
from agent.nlu.head import OptOutHead  # noqa: E402
from agent.nlu.intents import CALLBACK_LATER, OPT_OUT  # noqa: E402
from agent.nlu.lofo import read_families  # noqa: E402

GRID = [round(0.05 + 0.01 * i, 2) for i in range(95)]  # 0.05 .. 0.99
L2 = 10.0
NGRAM_DIM = 4096
INNER_FOLDS = 3
OUTER_FOLDS = 5


def corpora(locale: str) -> dict[str, list[Path]]:
    """The training files per writer group (the blind sets are not among them)."""
    nlu = ROOT / "tests" / "nlu"
    return {
        "A": [nlu / "train" / f"corpus_{locale}_trainA.tsv"],
        "B": [nlu / "train" / f"corpus_{locale}_trainB.tsv"],
        "external": [nlu / "external" / f"corpus_{locale}_external.tsv"],
        "team": sorted(nlu.glob(f"corpus_{locale}*.tsv")),
    }


def data_hash(files: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Data:
    """Every training row with its vector, normalised text, base prediction and folds."""

    def __init__(self, nlu: NluPipeline, groups: dict[str, list[Path]]) -> None:
        assert nlu.semantic is not None
        rows = [(g, r) for g, files in groups.items() for f in files for r in read_families(f)]
        self.group = np.array([g for g, _ in rows])
        self.family = np.array([r.family for _, r in rows])
        self.gold = [r.gold for _, r in rows]
        self.texts = [r.text for _, r in rows]
        self.y = np.array([g == OPT_OUT for g in self.gold], dtype=np.float64)
        self.normal = [nlu.rules.normalize(t) for t in self.texts]
        semantic = nlu.semantic
        plain = NluPipeline(nlu.rules, semantic, nlu.threshold)  # no head
        vectors, rule_opt, nearest, fallback, gated = [], [], [], [], []
        for text in self.texts:
            vectors.append(semantic.embed(text))
            rule_opt.append(nlu.rules.classify(text).intent == OPT_OUT)
            gated.append(nlu.rules.refuses_a_learned_opt_out(text))  # head_gate, voided frames
            scores = semantic.scores(text)  # the same vector, from the encoder's cache
            near = scores.by_intent.get(OPT_OUT, 0.0) >= semantic.opt_out and scores.best == OPT_OUT
            nearest.append(near and not gated[-1])
            threshold, semantic.opt_out = semantic.opt_out, 2.0  # the answer when nothing raises an opt-out
            try:
                fallback.append(OPT_OUT if rule_opt[-1] else plain.classify(text).intent)
            finally:
                semantic.opt_out = threshold
        self.vectors = np.stack(vectors)
        self.rule_opt, self.nearest, self.fallback = np.array(rule_opt), np.array(nearest), fallback
        self.gated = np.array(gated)
        self.base = [OPT_OUT if n else f for n, f in zip(nearest, fallback, strict=True)]  # without a head

    def folds(self, mask: np.ndarray, k: int) -> np.ndarray:
        """Family-grouped fold numbers for the rows in `mask` (-1 elsewhere)."""
        names = sorted(set(self.family[mask]))
        order = {n: int(hashlib.sha256(n.encode()).hexdigest(), 16) % k for n in names}
        return np.array([order[f] if m else -1 for f, m in zip(self.family, mask, strict=True)])


def fit(data: Data, mask: np.ndarray, cjk: bool, threshold: float = 0.5, sha: str = "") -> OptOutHead:
    texts = [t for t, m in zip(data.normal, mask, strict=True) if m]
    return OptOutHead.fit(
        data.vectors[mask],
        texts,
        data.y[mask],
        cjk=cjk,
        ngram_dim=NGRAM_DIM,
        l2=L2,
        threshold=threshold,
        data_sha256=sha,
    )


def probabilities(head: OptOutHead, data: Data, mask: np.ndarray) -> np.ndarray:
    texts = [t for t, m in zip(data.normal, mask, strict=True) if m]
    return head.probabilities(data.vectors[mask], texts)


def choose_threshold(data: Data, mask: np.ndarray, cjk: bool, added_false: float) -> float:
    """Lowest grid threshold whose family-grouped out-of-fold predictions stay within added_false."""
    folds = data.folds(mask, INNER_FOLDS)
    oof = np.zeros(len(data.y))
    for k in range(INNER_FOLDS):
        test = folds == k
        if test.any() and (mask & ~test).any():
            oof[test] = probabilities(fit(data, mask & ~test, cjk), data, test)
    negatives = mask & (data.y == 0)
    base_opt = data.rule_opt  # the head's own additions are what the threshold controls
    allowed = added_false * max(1, int(negatives.sum()))
    for thr in GRID:
        added = int((negatives & ~base_opt & ~data.gated & (oof >= thr)).sum())
        if added <= allowed:
            return thr
    return GRID[-1]


def figures(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    pos = [p for g, p in zip(gold, predicted, strict=True) if g == OPT_OUT]
    neg = [p for g, p in zip(gold, predicted, strict=True) if g != OPT_OUT]
    return {
        "n": len(gold),
        "opt_out_recall": round(sum(p == OPT_OUT for p in pos) / max(1, len(pos)), 4),
        "false_opt_out_rate": round(sum(p == OPT_OUT for p in neg) / max(1, len(neg)), 4),
        "opt_out_as_callback_later": sum(p == CALLBACK_LATER for p in pos),
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted, strict=True)) / max(1, len(gold)), 4),
    }


def combined(data: Data, mask: np.ndarray, p: np.ndarray, threshold: float) -> list[str]:
    """The pipeline's answer with the head (agent/nlu/factory.py): rules, head, gated exemplars."""
    rows = np.flatnonzero(mask)
    return [
        OPT_OUT
        if data.rule_opt[i]
        or (not data.gated[i] and (q >= threshold or (data.nearest[i] and q >= EXEMPLAR_NEEDS_HEAD)))
        else data.fallback[i]
        for i, q in zip(rows, p, strict=True)
    ]


def evaluate(
    data: Data, train: np.ndarray, test: np.ndarray, cjk: bool, added_false: float
) -> dict[str, Any]:
    threshold = choose_threshold(data, train, cjk, added_false)
    p = probabilities(fit(data, train, cjk), data, test)
    gold = [g for g, m in zip(data.gold, test, strict=True) if m]
    base = [b for b, m in zip(data.base, test, strict=True) if m]
    predicted = combined(data, test, p, threshold)
    misses = [
        t for t, g, q in zip(np.array(data.texts)[test], gold, predicted, strict=True) if g == OPT_OUT != q
    ]
    false = [
        t for t, g, q in zip(np.array(data.texts)[test], gold, predicted, strict=True) if q == OPT_OUT != g
    ]
    return {
        "threshold": threshold,
        "without_head": figures(gold, base),
        "with_head": figures(gold, predicted),
        "missed": [str(t) for t in misses],
        "false_opt_outs": [str(t) for t in false],
        "predicted": predicted,
    }


def run(locale: str, added_false: float, write: bool) -> dict[str, Any]:
    groups = corpora(locale)
    files = [f for fs in groups.values() for f in fs]
    sha = data_hash(files)
    nlu = build_nlu(locale, ROOT / "prompts")
    cjk = nlu.rules.cjk
    data = Data(nlu, groups)
    everything = np.ones(len(data.y), dtype=bool)
    report: dict[str, Any] = {
        "locale": locale,
        "data_sha256": sha,
        "rows": len(data.y),
        "added_false": added_false,
    }
    report["cross_writer"] = {
        f"{a}->{b}": evaluate(data, data.group == a, data.group == b, cjk, added_false)
        for a, b in (("A", "B"), ("B", "A"))
    }
    report["leave_one_writer_out"] = {
        g: evaluate(data, data.group != g, data.group == g, cjk, added_false) for g in groups
    }
    folds = data.folds(everything, OUTER_FOLDS)
    pooled_gold: list[str] = []
    pooled_base: list[str] = []
    pooled: list[str] = []
    for k in range(OUTER_FOLDS):
        test = folds == k
        result = evaluate(data, ~test, test, cjk, added_false)
        pooled_gold += [g for g, m in zip(data.gold, test, strict=True) if m]
        pooled_base += [b for b, m in zip(data.base, test, strict=True) if m]
        pooled += result["predicted"]
    report["family_5_fold"] = {
        "without_head": figures(pooled_gold, pooled_base),
        "with_head": figures(pooled_gold, pooled),
    }
    threshold = choose_threshold(data, everything, cjk, added_false)
    head = fit(data, everything, cjk, threshold, sha)
    report["final_threshold"] = threshold
    for part in [*report["cross_writer"].values(), *report["leave_one_writer_out"].values()]:
        part.pop("predicted")
    if write:
        head.save(ROOT / "prompts" / locale / HEAD_FILE)
    return report


def _line(name: str, fig: dict[str, Any]) -> str:
    return (
        f"  {name:<28} n={fig['n']:>5}  recall {fig['opt_out_recall']:.3f}"
        f"  false {fig['false_opt_out_rate']:.3f}  opt->cb {fig['opt_out_as_callback_later']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", action="append", help="en-US and/or zh-CN (default both)")
    parser.add_argument(
        "--added-false", type=float, default=0.008, help="extra false opt-outs the head may add"
    )
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--dry-run", action="store_true", help="measure only; do not write the .npz")
    args = parser.parse_args(argv)
    reports = []
    for locale in args.locale or ["en-US", "zh-CN"]:
        report = run(locale, args.added_false, not args.dry_run)
        reports.append(report)
        sha, threshold = report["data_sha256"][:12], report["final_threshold"]
        print(f"{locale}  (corpora sha256 {sha}, final threshold {threshold})")
        for name, part in [*report["cross_writer"].items(), *report["leave_one_writer_out"].items()]:
            print(_line(f"{name} without head", part["without_head"]))
            print(_line(f"{name} with head @{part['threshold']}", part["with_head"]))
        print(_line("family 5-fold without head", report["family_5_fold"]["without_head"]))
        print(_line("family 5-fold with head", report["family_5_fold"]["with_head"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
