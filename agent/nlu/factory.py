"""Build a locale's NLU: rules first, then the semantic layer (SPEC 6.1, 6.2, 6.2a).

Every turn: the rules' opt-out (the structural detector: certain, or doubtful) wins at once;
then the learned opt-out head (`agent.nlu.head`, prompts/<locale>/nlu_optout_head.npz) or the
nearest exemplar above its stricter threshold (and, with a head, P >= EXEMPLAR_NEEDS_HEAD) may
raise an opt-out over any other rule match, a complaint included (opt-out precedence: "call
again and I'll report you" is an opt-out that is also a complaint), but only as a doubtful one
(the agent confirms with one question: an encoder alone never ends calls), and not when the
utterance only stops something said in this call and names no contacting ("stop interrupting
me", "别念了": the detector's `head_gate`), nor when the detector heard a frame and voided it (a
time limiter, a third party, an exception: "这会儿别打扰我，明天再联系"); an exemplar opt-out refused there
is not raised later as the semantic answer either; then a rule complaint; then a confident rule
answer; then the semantic answer; then unknown. A final turn's runner-up readings (the
recogniser's next-best hypotheses) are read last: when the best reading is no opt-out and a
runner-up is one, the answer is a doubtful opt-out (`agent.nlu.runner_up`). Thread-safe: the
layers hold no per-call state, the encoder locks itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.nlu.head import OptOutHead
from agent.nlu.intents import MUST_NOT_MISS, OPT_OUT, OPT_OUT_SCOPE_SLOT, UNKNOWN, NluResult
from agent.nlu.rules import RuleNlu
from agent.nlu.runner_up import RUNNER_UP_STRONG, runner_up_doubt
from agent.nlu.semantic import CharNgramEncoder, Exemplars, SemanticNlu, TextEncoder, load_sentence_encoder

__all__ = [
    "EXEMPLAR_NEEDS_HEAD",
    "HEAD_FILE",
    "SEMANTIC_DOUBT_CONFIDENCE",
    "NluPipeline",
    "build_nlu",
    "build_semantic",
]

EXEMPLAR_NEEDS_HEAD = 0.5
"""With a head, a nearest-exemplar opt-out also needs P(opt-out) at least this (the head is the
better calibrated of the two: on the training corpora every exemplar-only false opt-out, such as
"别现在打，等我到家了再打", had P < 0.02, every true one P > 0.99)."""

HEAD_FILE = "nlu_optout_head.npz"
"""The learned opt-out head beside the lexicon (scripts/train_optout_head.py writes it)."""

SEMANTIC_DOUBT_CONFIDENCE = 0.7
"""An opt-out only the encoder saw: below OPT_OUT_CERTAIN, so the agent asks before acting."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NluPipeline:
    """Rules then semantic layer, with the interface the call session uses."""

    rules: RuleNlu
    semantic: SemanticNlu | None = None
    threshold: float = 0.6
    head: OptOutHead | None = None
    runner_up_strong: float = RUNNER_UP_STRONG  # opt-out confidence a runner-up needs to raise a doubt
    runner_up_encoder: bool = False  # runner-ups read by encoder and head too (one batch), not rules only
    """Off: through the line (dev6 + trainB samples, both locales) the encoder reading added 2 en-US
    opt-outs (punctuation flips of a borderline head P), none zh-CN, and 2 false doubts (one each),
    for ~80 ms more NLU a non-opt-out turn (E5, load 8)."""

    @property
    def layers(self) -> tuple[object, ...]:
        """The layers in the order they are asked."""
        return (self.rules,) if self.semantic is None else (self.rules, self.semantic)

    def classify(
        self,
        text: str,
        expected: Sequence[str] | None = None,
        *,
        today: dt.date | None = None,
        runner_ups: Sequence[str] = (),
    ) -> NluResult:
        """One customer utterance -> intent, confidence and slots; `runner_ups`: the recogniser's
        next-best readings of it, which may only turn a missed opt-out into a doubtful one."""
        best = self._classify(text, expected, today=today)
        if not runner_ups or best.intent == OPT_OUT:
            return best
        if not self.runner_up_encoder:  # the rules (detector, sound-alike repair): ~1 ms a reading
            ruled = self._ruled(expected, today)
            return runner_up_doubt(best, runner_ups, ruled, strong=self.runner_up_strong)
        if self.semantic is not None:
            self.semantic.prime(runner_ups)  # one encoder batch for all of them

        def read(other: str) -> NluResult:
            return self._classify(other, expected, today=today)

        return runner_up_doubt(best, runner_ups, read, strong=self.runner_up_strong)

    def _ruled(self, expected: Sequence[str] | None, today: dt.date | None) -> Callable[[str], NluResult]:
        def read(text: str) -> NluResult:
            return self.rules.classify(text, expected, today=today)

        return read

    def _classify(
        self, text: str, expected: Sequence[str] | None = None, *, today: dt.date | None = None
    ) -> NluResult:
        ruled = self.rules.classify(text, expected, today=today)
        normal = self.rules.normalize(text)
        if ruled.intent == OPT_OUT or self.semantic is None or not normal:
            return ruled
        scores = self.semantic.scores(text)
        p = self.opt_out_probability(text, normal)
        nearest = scores.by_intent.get(OPT_OUT, 0.0) >= self.semantic.opt_out and scores.best == OPT_OUT
        learned = (self.head is not None and p >= self.head.threshold) or (
            nearest and (self.head is None or p >= EXEMPLAR_NEEDS_HEAD)
        )
        if learned and not self.rules.refuses_a_learned_opt_out(text):
            also = (ruled.intent,) if ruled.intent != UNKNOWN else ()
            scope = self.rules.opt_out_scope(text)
            return NluResult(OPT_OUT, SEMANTIC_DOUBT_CONFIDENCE, {OPT_OUT_SCOPE_SLOT: scope}, also)
        if ruled.intent in MUST_NOT_MISS:
            return ruled
        if ruled.intent != UNKNOWN and ruled.confidence >= self.threshold:
            return ruled
        meant = self.semantic.result(scores, text, expected, today=today)
        if meant.intent not in (UNKNOWN, OPT_OUT):  # an exemplar opt-out was weighed (and refused) above
            return meant
        return ruled

    def opt_out_probability(self, text: str, normal: str | None = None) -> float:
        """The learned head's P(opt-out) for raw text (0 without a head or an encoder)."""
        if self.head is None or self.semantic is None:
            return 0.0
        normal = self.rules.normalize(text) if normal is None else normal
        return self.head.probability(self.semantic.embed(text), normal)

    def is_complete_answer(self, text: str, expected: Sequence[str]) -> bool:
        """Whether a running transcript already answers the state (rules only: it runs on partials)."""
        return self.rules.is_complete_answer(text, expected)


def _encoder_for(exemplars: Exemplars, texts: list[str], encoder_path: Path | None) -> TextEncoder:
    """The configured sentence encoder, else character n-grams."""
    path = encoder_path
    if path is None and exemplars.encoder:
        from agent.models.resolver import resolve

        path = resolve(exemplars.encoder).path
    if path is not None:
        return load_sentence_encoder(str(path))
    return CharNgramEncoder(texts)


def build_semantic(
    locale: str, prompts_dir: str | Path, rules: RuleNlu, *, encoder_path: str | Path | None = None
) -> SemanticNlu | None:
    """The locale's semantic layer, or None when it has no exemplars."""
    path = Path(prompts_dir) / locale / "nlu_exemplars.yaml"
    if not path.exists():
        return None
    exemplars = Exemplars.load(path)
    prepare = rules.normalize if rules.cjk else str.lower
    texts = [prepare(t) for items in exemplars.intents.values() for t in items]
    encoder = _encoder_for(exemplars, texts, Path(encoder_path) if encoder_path else None)

    def fill(intent: str, text: str, today: dt.date | None) -> dict[str, str]:
        return rules.slots_for(intent, text, today=today)

    return SemanticNlu(exemplars, encoder, prepare=prepare, slot_filler=fill)


def build_nlu(
    locale: str,
    prompts_dir: str | Path = "prompts",
    *,
    encoder_path: str | Path | None = None,
    semantic: bool = True,
) -> NluPipeline:
    """Rules (prompts/<locale>/nlu.yaml), the semantic layer (nlu_exemplars.yaml), the opt-out head."""
    rules = RuleNlu.from_file(Path(prompts_dir) / locale / "nlu.yaml")
    layer = build_semantic(locale, prompts_dir, rules, encoder_path=encoder_path) if semantic else None
    head_file = Path(prompts_dir) / locale / HEAD_FILE
    head = OptOutHead.load(head_file) if layer is not None and head_file.exists() else None
    return NluPipeline(rules, layer, head=head)
