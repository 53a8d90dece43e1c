"""Canonical intent names (SPEC 6), the NLU result type, and how NLU layers chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "AFFIRM",
    "ALREADY_PAID",
    "ALWAYS_AVAILABLE",
    "ASK_IS_AI",
    "ASK_WHO_IS_CALLING",
    "CALLBACK_LATER",
    "COMPLAINT",
    "DENY",
    "DISPUTE",
    "HARDSHIP",
    "INTENTS",
    "MUST_NOT_MISS",
    "OPT_OUT",
    "PROMISE_TO_PAY",
    "REPEAT",
    "REQUEST_HUMAN",
    "UNKNOWN",
    "WRONG_PERSON",
    "ChainedNlu",
    "IntentClassifier",
    "NluResult",
]

OPT_OUT = "opt_out"
AFFIRM = "affirm"
DENY = "deny"
WRONG_PERSON = "wrong_person"
ASK_IS_AI = "ask_is_ai"
ASK_WHO_IS_CALLING = "ask_who_is_calling"
PROMISE_TO_PAY = "promise_to_pay"
ALREADY_PAID = "already_paid"
DISPUTE = "dispute"
HARDSHIP = "hardship"
CALLBACK_LATER = "callback_later"
REQUEST_HUMAN = "request_human"
REPEAT = "repeat"
COMPLAINT = "complaint"
UNKNOWN = "unknown"

INTENTS: tuple[str, ...] = (
    OPT_OUT,
    AFFIRM,
    DENY,
    WRONG_PERSON,
    ASK_IS_AI,
    ASK_WHO_IS_CALLING,
    PROMISE_TO_PAY,
    ALREADY_PAID,
    DISPUTE,
    HARDSHIP,
    CALLBACK_LATER,
    REQUEST_HUMAN,
    REPEAT,
    COMPLAINT,
    UNKNOWN,
)
"""Every canonical intent; scripts may add their own names."""

MUST_NOT_MISS: tuple[str, ...] = (OPT_OUT, COMPLAINT)
"""Checked first on every turn, in every state, before the script's own intents (SPEC 6.2)."""

ALWAYS_AVAILABLE: frozenset[str] = frozenset(
    {OPT_OUT, COMPLAINT, ASK_IS_AI, ASK_WHO_IS_CALLING, REPEAT, REQUEST_HUMAN, WRONG_PERSON}
)
"""Intents answered in any state, so they count as expected wherever the customer is."""


@dataclass(frozen=True, slots=True)
class NluResult:
    """What the customer meant: an intent, how sure we are (0..1), and slot values (e.g. date)."""

    intent: str
    confidence: float
    slots: Mapping[str, str] = field(default_factory=dict)


class IntentClassifier(Protocol):
    """One NLU layer (rules, semantic encoder, ...)."""

    def classify(
        self, text: str, expected: Sequence[str] | None = None, *, today: dt.date | None = None
    ) -> NluResult:
        """Classify one utterance, preferring `expected` intents; `today` resolves relative dates."""
        ...


@dataclass(frozen=True, slots=True)
class ChainedNlu:
    """Layers in order: the first confident answer wins; must-not-miss intents always win at once."""

    layers: tuple[IntentClassifier, ...]
    threshold: float = 0.6

    def classify(
        self, text: str, expected: Sequence[str] | None = None, *, today: dt.date | None = None
    ) -> NluResult:
        """Ask each layer in turn; fall back to the best (most confident) answer seen."""
        best = NluResult(UNKNOWN, 0.0)
        for layer in self.layers:
            result = layer.classify(text, expected, today=today)
            if result.intent in MUST_NOT_MISS or (
                result.intent != UNKNOWN and result.confidence >= self.threshold
            ):
                return result
            if result.intent != UNKNOWN and result.confidence > best.confidence:
                best = result
        return best
