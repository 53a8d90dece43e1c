"""Calibrate the semantic NLU thresholds on the development corpora; print a table, write JSON.

For each locale: sweep the accept threshold and the (stricter) opt-out threshold over the
dev corpus (tests/nlu/corpus_<locale>.tsv) with the full pipeline (rules, then semantic),
choose the opt-out threshold as the lowest with no false opt-out plus a safety margin, and
the accept threshold with the best accuracy. The chosen thresholds are written back into
prompts/<locale>/nlu_exemplars.yaml. The held-out corpora are evaluated, never tuned on.

Usage: python scripts/calibrate_nlu.py [--locale en-US] [--json out/nlu_calibration.json] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from agent.cli.nlu import evaluate, read_tsv  # noqa: E402
from agent.nlu.factory import NluPipeline, build_nlu  # noqa: E402

OPT_OUT_MARGIN = 0.01  # e5 cosine similarities are compressed near 1: a small margin is a wide one
GRID = [round(0.30 + 0.01 * i, 3) for i in range(70)]  # 0.30 .. 0.99


def _with(nlu: NluPipeline, accept: float, opt_out: float) -> NluPipeline:
    assert nlu.semantic is not None
    nlu.semantic.accept, nlu.semantic.opt_out = accept, opt_out
    return nlu


class _SemanticOnly:
    """The semantic layer by itself, for choosing its opt-out threshold."""

    def __init__(self, nlu: NluPipeline) -> None:
        self._semantic = nlu.semantic

    def classify(self, text: str) -> object:
        assert self._semantic is not None
        return self._semantic.classify(text)


def _write_back(path: Path, accept: float, opt_out: float) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(  accept:\s*)[0-9.]+", rf"\g<1>{accept}", text, count=1)
    text = re.sub(r"(?m)^(  opt_out:\s*)[0-9.]+", rf"\g<1>{opt_out}", text, count=1)
    path.write_text(text, encoding="utf-8")


def calibrate(locale: str, prompts: Path, dry_run: bool) -> dict[str, object]:
    """Sweep, choose, write back, and report dev and held-out figures."""
    nlu = build_nlu(locale, prompts)
    dev = read_tsv(ROOT / "tests" / "nlu" / f"corpus_{locale}.tsv")
    heldout = read_tsv(ROOT / "tests" / "nlu" / f"corpus_{locale}_heldout.tsv")
    # Cache encoder work: score each dev text once, then replay the pipeline per threshold pair.
    assert nlu.semantic is not None
    cache = {text: nlu.semantic.scores(text) for text, _ in dev + heldout}
    scores_fn = nlu.semantic.scores
    nlu.semantic.scores = cache.__getitem__  # type: ignore[method-assign]
    # The opt-out threshold is set on the semantic layer alone (the rules would hide its mistakes).
    opt_rows = []
    for opt in GRID:
        r = evaluate(_SemanticOnly(_with(nlu, min(opt, 0.3), opt)), dev)
        opt_rows.append((opt, r["opt_out_recall"], r["false_opt_out_rate"]))
    safe = [opt for opt, _, false in opt_rows if false == 0.0]
    opt_out = round(min(0.99, (min(safe) if safe else 0.99) + OPT_OUT_MARGIN), 3)
    rows = []
    for accept in GRID:
        r = evaluate(_SemanticOnly(_with(nlu, accept, opt_out)), dev)
        rows.append((accept, r["accuracy"], r["opt_out_recall"], r["false_opt_out_rate"]))
    best = max(rows, key=lambda row: (row[1], row[0]))
    accept = best[0]
    opt_out = round(max(opt_out, accept + 0.05), 3)
    nlu.semantic.scores = scores_fn  # type: ignore[method-assign]
    final = _with(nlu, accept, opt_out)
    dev_report, held_report = evaluate(final, dev), evaluate(final, heldout)
    print(f"\n== {locale} ==")
    print("opt-out threshold, semantic layer alone (recall / false opt-out on dev):")
    print(f"{'opt_out thr':>11} {'recall':>7} {'false':>7}")
    for opt, recall, false in opt_rows:
        print(f"{opt:>11.3f} {recall:>7.3f} {false:>7.3f}")
    print("accept threshold, semantic layer alone on dev:")
    print(f"{'accept thr':>11} {'acc':>7} {'oo-rec':>7} {'false':>7}")
    for accept_, acc, recall, false in rows:
        mark = " <" if accept_ == accept else ""
        print(f"{accept_:>11.3f} {acc:>7.3f} {recall:>7.3f} {false:>7.3f}{mark}")
    print(f"chosen: accept={accept} opt_out={opt_out}")
    for name, rep in (("dev", dev_report), ("held-out", held_report)):
        print(
            f"{name:>8}: accuracy {rep['accuracy']:.3f}  opt-out recall {rep['opt_out_recall']:.3f}  "
            f"false opt-out {rep['false_opt_out_rate']:.3f}  (n={rep['n']})"
        )
    if not dry_run:
        _write_back(prompts / locale / "nlu_exemplars.yaml", accept, opt_out)
    return {
        "locale": locale,
        "accept": accept,
        "opt_out": opt_out,
        "opt_out_sweep": [dict(zip(("threshold", "recall", "false_rate"), r, strict=True)) for r in opt_rows],
        "accept_sweep": [
            dict(zip(("threshold", "accuracy", "opt_out_recall", "false_rate"), r, strict=True)) for r in rows
        ],
        "dev": {
            k: dev_report[k] for k in ("n", "accuracy", "opt_out_recall", "false_opt_out_rate", "per_intent")
        },
        "heldout": {
            k: held_report[k] for k in ("n", "accuracy", "opt_out_recall", "false_opt_out_rate", "per_intent")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locale", action="append", choices=["en-US", "zh-CN"])
    parser.add_argument("--prompts", type=Path, default=ROOT / "prompts")
    parser.add_argument("--json", type=Path, default=ROOT / "out" / "nlu_calibration.json")
    parser.add_argument("--dry-run", action="store_true", help="Do not write thresholds back.")
    args = parser.parse_args()
    results = [calibrate(loc, args.prompts, args.dry_run) for loc in args.locale or ["en-US", "zh-CN"]]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
