"""Leave-one-family-out evaluation (issue 10 item 5): how the tuned parts generalise to a new family.

A family is the phrasings of one template or writer: a third TSV column, else the last
`# family: NAME` comment, else the last `# block` comment, else `<file>:<gold intent>`. For
each family the semantic thresholds are re-chosen on all the other families (the opt-out
threshold as the lowest with no false opt-out from the semantic layer alone, plus a margin;
the accept threshold for the best accuracy), then the held-out family is classified. The
hand-written rules are not refitted: LOFO measures the tuned parts, not the lexicon writers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.nlu.factory import NluPipeline
from agent.nlu.intents import OPT_OUT

__all__ = ["Row", "leave_one_family_out", "read_families"]

GRID = [round(0.30 + 0.01 * i, 3) for i in range(70)]
MARGIN = 0.01


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    gold: str
    family: str


def read_families(path: Path) -> list[Row]:
    """Rows of text<TAB>intent[<TAB>family] with the family each belongs to."""
    rows: list[Row] = []
    block: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            note = line.lstrip("#").strip()
            block = note.split(":", 1)[1].strip() if note.lower().startswith("family:") else note
            continue
        parts = line.split("\t")
        if len(parts) not in (2, 3):
            raise ValueError(f"{path}:{number}: expected text<TAB>intent[<TAB>family]")
        if number == 1 and parts[:2] == ["text", "intent"]:
            continue
        gold = parts[1].strip()
        family = parts[2].strip() if len(parts) == 3 else block or f"{gold}"
        rows.append(Row(parts[0], gold, f"{path.stem}:{family}"))
    return rows


def _predict(nlu: NluPipeline, rows: Sequence[Row], accept: float, opt_out: float) -> list[str]:
    assert nlu.semantic is not None
    nlu.semantic.accept, nlu.semantic.opt_out = accept, opt_out
    return [nlu.classify(r.text).intent for r in rows]


def _choose(nlu: NluPipeline, rows: Sequence[Row]) -> tuple[float, float]:
    """Thresholds from these rows only (the semantic layer's own opt-out calls must be clean)."""
    assert nlu.semantic is not None
    semantic = nlu.semantic
    safe = []
    for thr in GRID:
        semantic.accept, semantic.opt_out = min(thr, 0.3), thr
        if all(semantic.classify(r.text).intent != OPT_OUT for r in rows if r.gold != OPT_OUT):
            safe.append(thr)
    opt_out = round(min(0.99, (min(safe) if safe else 0.99) + MARGIN), 3)
    def correct(accept: float) -> tuple[int, float]:
        predicted = _predict(nlu, rows, accept, opt_out)
        return sum(p == r.gold for p, r in zip(predicted, rows, strict=True)), accept

    best = max(GRID[::2], key=correct)
    return best, max(opt_out, round(best + 0.01, 3))


class _Cached(NluPipeline):
    """The pipeline with the head's P(opt-out) looked up: it does not depend on the thresholds."""

    probabilities: dict[str, float]

    def opt_out_probability(self, text: str, normal: str | None = None) -> float:
        return self.probabilities[text]


def leave_one_family_out(nlu: NluPipeline, rows: Sequence[Row]) -> dict[str, Any]:
    """Per-family and pooled figures with thresholds never tuned on the family they are tested on."""
    if nlu.semantic is None:
        raise ValueError("leave-one-family-out needs the semantic layer: its thresholds are refitted")
    cache = {r.text: nlu.semantic.scores(r.text) for r in rows}
    ruled = {r.text: nlu.rules.classify(r.text) for r in rows}  # the rules do not depend on thresholds
    normalize = nlu.rules.normalize
    normal = {r.text: normalize(r.text) for r in rows}
    head = {r.text: nlu.opt_out_probability(r.text, normal[r.text]) for r in rows}
    semantic = nlu.semantic
    original = semantic.scores
    semantic.scores = cache.__getitem__  # type: ignore[method-assign,assignment]
    nlu.rules.classify = lambda text, expected=None, *, today=None: ruled[text]  # type: ignore[method-assign]
    # the pipeline also normalises pieces of an utterance (the opt-out scope reads its sentences)
    nlu.rules.normalize = lambda text: normal[text] if text in normal else normalize(text)  # type: ignore[method-assign]
    nlu = _Cached(nlu.rules, nlu.semantic, nlu.threshold, nlu.head)
    object.__setattr__(nlu, "probabilities", head)
    families: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        families[r.family].append(r)
    pooled: list[tuple[str, str]] = []
    per: dict[str, dict[str, Any]] = {}
    try:
        for name, held in families.items():
            rest = [r for r in rows if r.family != name]
            accept, opt_out = _choose(nlu, rest)
            predicted = _predict(nlu, held, accept, opt_out)
            pairs = list(zip([r.gold for r in held], predicted, strict=True))
            pooled += pairs
            per[name] = {**_figures(pairs), "accept": accept, "opt_out_threshold": opt_out}
    finally:
        semantic.scores = original  # type: ignore[method-assign]
        del nlu.rules.classify, nlu.rules.normalize
    return {"families": per, **_figures(pooled)}


def _figures(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    pos = [p for g, p in pairs if g == OPT_OUT]
    neg = [p for g, p in pairs if g != OPT_OUT]
    return {
        "n": len(pairs),
        "accuracy": sum(g == p for g, p in pairs) / len(pairs) if pairs else 0.0,
        "opt_out_recall": sum(p == OPT_OUT for p in pos) / len(pos) if pos else 1.0,
        "false_opt_out_rate": sum(p == OPT_OUT for p in neg) / len(neg) if neg else 0.0,
        "opt_out_as_callback_later": sum(1 for g, p in pairs if g == OPT_OUT and p == "callback_later"),
    }
