"""Build a locale's NLU: rules first, then the semantic layer (SPEC 6.1, 6.2, 6.2a).

Every turn: the rules' opt-out (the structural detector: certain, or doubtful) and complaint
win at once; the semantic layer may raise an opt-out above its stricter threshold, over
another rule match, but only as a doubtful one (the agent confirms with one question: an
encoder alone never ends calls); then a confident rule answer; then the semantic answer;
then unknown. Thread-safe: the layers hold no per-call state, the encoder locks itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.nlu.intents import MUST_NOT_MISS, OPT_OUT, OPT_OUT_SCOPE_SLOT, UNKNOWN, Intent, NluResult
from agent.nlu.rules import RuleNlu
from agent.nlu.semantic import CharNgramEncoder, Exemplars, SemanticNlu, TextEncoder, load_sentence_encoder

__all__ = ["SEMANTIC_DOUBT_CONFIDENCE", "NluPipeline", "build_nlu", "build_semantic"]

SEMANTIC_DOUBT_CONFIDENCE = 0.7
"""An opt-out only the encoder saw: below OPT_OUT_CERTAIN, so the agent asks before acting."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NluPipeline:
    """Rules then semantic layer, with the interface the call session uses."""

    rules: RuleNlu
    semantic: SemanticNlu | None = None
    threshold: float = 0.6

    @property
    def layers(self) -> tuple[object, ...]:
        """The layers in the order they are asked."""
        return (self.rules,) if self.semantic is None else (self.rules, self.semantic)

    def classify(
        self, text: str, expected: Sequence[str] | None = None, *, today: dt.date | None = None
    ) -> NluResult:
        """One customer utterance -> intent, confidence and slots."""
        ruled = self.rules.classify(text, expected, today=today)
        if ruled.intent in MUST_NOT_MISS or self.semantic is None or not self.rules.normalize(text):
            return ruled
        scores = self.semantic.scores(text)
        if scores.by_intent.get(OPT_OUT, 0.0) >= self.semantic.opt_out and scores.best == OPT_OUT:
            also = (ruled.intent,) if ruled.intent not in (UNKNOWN, Intent.COMPLAINT) else ()
            return NluResult(OPT_OUT, SEMANTIC_DOUBT_CONFIDENCE, {OPT_OUT_SCOPE_SLOT: "all"}, also)
        if ruled.intent != UNKNOWN and ruled.confidence >= self.threshold:
            return ruled
        meant = self.semantic.result(scores, text, expected, today=today)
        if meant.intent != UNKNOWN:
            return meant
        return ruled

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
    """Rules (prompts/<locale>/nlu.yaml) then the semantic layer (nlu_exemplars.yaml)."""
    rules = RuleNlu.from_file(Path(prompts_dir) / locale / "nlu.yaml")
    layer = build_semantic(locale, prompts_dir, rules, encoder_path=encoder_path) if semantic else None
    return NluPipeline(rules, layer)
