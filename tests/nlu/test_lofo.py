"""Leave-one-family-out (agent/nlu/lofo.py) with a learned head in the pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agent.nlu.factory import NluPipeline
from agent.nlu.head import OptOutHead
from agent.nlu.lofo import Row, leave_one_family_out, read_families
from agent.nlu.rules import RuleNlu
from agent.nlu.semantic import CharNgramEncoder, Exemplars, SemanticNlu

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"

ROWS = [
    Row("zorp the blarg forever, okay. I mean it, email me", "opt_out", "a"),  # the head's, in two sentences
    Row("no blarg zorping whatsoever", "opt_out", "a"),
    Row("i paid on friday", "already_paid", "b"),
    Row("what is my balance", "unknown", "b"),
    Row("stop calling me", "opt_out", "c"),
]


def test_families_are_held_out_and_a_head_opt_out_over_sentences_is_scored(tmp_path: Path) -> None:
    rules = RuleNlu.from_file(PROMPTS / "en-US" / "nlu.yaml")
    texts = [r.text for r in ROWS]
    exemplars = Exemplars("en-US", {"unknown": ("hello there",)}, accept=0.9, opt_out=0.95, encoder=None)
    semantic = SemanticNlu(exemplars, CharNgramEncoder(texts), prepare=str.lower)
    labels = np.array([1.0 if r.gold == "opt_out" else 0.0 for r in ROWS])
    vectors = np.stack([semantic.embed(t) for t in texts])
    normal = [rules.normalize(t) for t in texts]
    head = OptOutHead.fit(vectors, normal, labels, cjk=False, ngram_dim=256, l2=0.1)
    report = leave_one_family_out(NluPipeline(rules, semantic, head=head), ROWS)
    assert set(report["families"]) == {"a", "b", "c"} and report["n"] == len(ROWS)
    assert report["opt_out_recall"] == 1.0 and report["false_opt_out_rate"] == 0.0
    assert rules.normalize("stop calling me") == "stop calling me"  # the stand-ins were taken off again
    tsv = tmp_path / "corpus.tsv"
    tsv.write_text("# family: x\nstop calling me\topt_out\ni paid\talready_paid\ty\n", encoding="utf-8")
    rows = [(r.gold, r.family) for r in read_families(tsv)]
    assert rows == [("opt_out", "corpus:x"), ("already_paid", "corpus:y")]
