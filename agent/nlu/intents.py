"""The one intent vocabulary (SPEC 6): a leaf `StrEnum`, every other intent set derived from it.

This module imports nothing from the project, so the dialogue engine, the script model, the
call session and the linter can all name intents from here without an import cycle. The
plain constants (`OPT_OUT`, ...) are kept as aliases of the enum members for older callers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
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
    "GLOBAL_INTENTS",
    "HARDSHIP",
    "INTENTS",
    "MUST_NOT_MISS",
    "OPT_OUT",
    "OPT_OUT_CERTAIN",
    "OPT_OUT_SCOPE_SLOT",
    "PROMISE_TO_PAY",
    "REPEAT",
    "REQUEST_HUMAN",
    "UNKNOWN",
    "WRONG_PERSON",
    "ChainedNlu",
    "Intent",
    "IntentClassifier",
    "NluResult",
]


class Intent(StrEnum):
    """Canonical intents (SPEC 6); scripts may add names of their own as plain strings."""

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


OPT_OUT = Intent.OPT_OUT
AFFIRM = Intent.AFFIRM
DENY = Intent.DENY
WRONG_PERSON = Intent.WRONG_PERSON
ASK_IS_AI = Intent.ASK_IS_AI
ASK_WHO_IS_CALLING = Intent.ASK_WHO_IS_CALLING
PROMISE_TO_PAY = Intent.PROMISE_TO_PAY
ALREADY_PAID = Intent.ALREADY_PAID
DISPUTE = Intent.DISPUTE
HARDSHIP = Intent.HARDSHIP
CALLBACK_LATER = Intent.CALLBACK_LATER
REQUEST_HUMAN = Intent.REQUEST_HUMAN
REPEAT = Intent.REPEAT
COMPLAINT = Intent.COMPLAINT
UNKNOWN = Intent.UNKNOWN

INTENTS: tuple[str, ...] = tuple(Intent)
"""Every canonical intent, in declaration order."""

MUST_NOT_MISS: tuple[str, ...] = (Intent.OPT_OUT, Intent.COMPLAINT)
"""Checked first on every turn, in every state, before the script's own intents (SPEC 6.2)."""

GLOBAL_INTENTS: tuple[str, ...] = (
    Intent.OPT_OUT,
    Intent.COMPLAINT,
    Intent.ASK_IS_AI,
    Intent.ASK_WHO_IS_CALLING,
    Intent.REPEAT,
    Intent.REQUEST_HUMAN,
)
"""Intents a script's global handlers answer in every state (states may override all but opt_out)."""

ALWAYS_AVAILABLE: frozenset[str] = frozenset({*GLOBAL_INTENTS, Intent.WRONG_PERSON})
"""Intents answered in any state, so they count as expected wherever the customer is."""

OPT_OUT_CERTAIN = 0.8
"""An opt_out result at or above this confidence is certain; below it the agent asks first (SPEC 6.2a)."""

OPT_OUT_SCOPE_SLOT = "opt_out_scope"
"""The slot an opt_out result names its scope in: 'all', or 'voice' for "only email me" (Reg F 1006.14(h))."""


@dataclass(frozen=True, slots=True)
class NluResult:
    """What the customer meant: an intent, how sure we are (0..1), slot values, and what else was said.

    `also` names further intents the same utterance carried, e.g. a complaint inside an
    opt-out ("call again and I'll report you"); the intent itself always takes precedence.
    """

    intent: str
    confidence: float
    slots: Mapping[str, str] = field(default_factory=dict)
    also: tuple[str, ...] = ()

    @property
    def scope(self) -> str | None:
        """The opt-out's suppression scope, when this is an opt-out."""
        if self.intent != Intent.OPT_OUT:
            return None
        return self.slots.get(OPT_OUT_SCOPE_SLOT, "all")

    @property
    def doubtful(self) -> bool:
        """An opt-out the agent must confirm with one question before it acts on it."""
        return self.intent == Intent.OPT_OUT and self.confidence < OPT_OUT_CERTAIN


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
