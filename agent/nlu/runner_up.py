"""Runner-up doubt: an opt-out the recogniser's next-best reading heard is asked about (SPEC 6.2a, issue 10).

Through the telephone line the recogniser's best reading sometimes loses what made a line an
opt-out (a first "don't", a sentence break, a garbled "删了"/"号码"/"打扰") while one of its beam's
runner-ups keeps it. When the best reading is no opt-out but a runner-up is one the NLU is sure
enough of (`strong`: the runner-up's own opt-out confidence), the turn becomes a doubtful opt-out:
the agent asks its one confirmation question, and nothing is persisted on a runner-up alone.

Pure: no I/O, no clock; the caller passes the classifier and the runner-up texts (they travel in
`agent.asr.base.Transcript.runner_ups`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from agent.nlu.intents import OPT_OUT, OPT_OUT_CERTAIN, OPT_OUT_SCOPE_SLOT, UNKNOWN, NluResult

__all__ = ["RUNNER_UP_CONFIDENCE", "RUNNER_UP_STRONG", "runner_up_doubt"]

RUNNER_UP_CONFIDENCE = 0.6
"""Confidence of an opt-out only a runner-up heard: below OPT_OUT_CERTAIN, so the agent asks first."""

RUNNER_UP_STRONG = 0.6
"""The least opt-out confidence a runner-up's own reading needs to raise the doubt (0.65: a rule
doubt, 0.7: the encoder's, 0.95: a certain rule)."""

assert RUNNER_UP_CONFIDENCE < OPT_OUT_CERTAIN


def runner_up_doubt(
    best: NluResult,
    runner_ups: Sequence[str],
    classify: Callable[[str], NluResult],
    *,
    strong: float = RUNNER_UP_STRONG,
    yields_to: Collection[str] = (),
) -> NluResult:
    """`best` (the NLU's reading of the best transcript), or a doubtful opt-out a runner-up heard.

    The runner-ups are read best first; the first whose opt-out has at
    least `strong` confidence wins. `best` stands when it is already an opt-out, or when its intent
    is in `yields_to` (something the script can act on). The doubt carries the runner-up's scope
    and names the best reading's intent in `also`.
    """
    if best.intent == OPT_OUT or best.intent in yields_to:
        return best
    for text in runner_ups:
        if not text.strip():
            continue
        heard = classify(text)
        if heard.intent != OPT_OUT or heard.confidence < strong:
            continue
        scope = heard.slots.get(OPT_OUT_SCOPE_SLOT, "all")
        also = tuple(dict.fromkeys(i for i in (best.intent, *heard.also) if i not in (UNKNOWN, OPT_OUT)))
        return NluResult(OPT_OUT, RUNNER_UP_CONFIDENCE, {OPT_OUT_SCOPE_SLOT: scope}, also)
    return best
