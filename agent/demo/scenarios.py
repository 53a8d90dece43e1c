"""Demo scenarios: what the simulated customer says or presses, and when, per locale.

A step waits for the agent's next utterance, then either lets it finish and answers after
a short pause, or cuts in `barge_after_ms` after the agent starts (a barge-in).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Step:
    """One customer action."""

    say: str | None = None  # what the customer says
    dtmf: str | None = None  # or a key the customer presses
    barge_after_ms: int | None = None  # interrupt the agent this long after it starts speaking
    pause_ms: int = 500  # reaction time after the agent stops


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named customer behaviour and the outcome the call must reach."""

    name: str
    steps: tuple[Step, ...]
    expected_outcome: str
    description: str


SLOTS_EN = {
    "customer_name": "John Smith",
    "company_name": "Acme Finance",
    "amount_due": "1234.50",
    "due_date": "2026-12-05",
    "callback_number": "18005550123",
}

SCENARIOS_EN: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "happy_path",
            (Step("Yes, this is John."), Step("Yes, I can pay it on Friday.")),
            "promise_to_pay",
            "right party confirmed, reminder heard, promise to pay on a date",
        ),
        Scenario(
            "opt_out",
            (Step("Please stop calling me."),),
            "opted_out",
            "the customer opts out by voice right after the disclosure",
        ),
        Scenario(
            "ask_is_ai",
            (Step("Wait, am I talking to a robot?"), Step("Yes, this is John."),
             Step("Yes, I can pay it on Friday.")),
            "promise_to_pay",
            "the customer asks whether the caller is an AI and gets a truthful answer",
        ),
        Scenario(
            "wrong_person",
            (Step("No, you have the wrong number."),),
            "wrong_person",
            "someone else answers: no account details, a callback request only",
        ),
        Scenario(
            "barge_in",
            (Step("Yes, speaking."), Step("I already paid it last week.", barge_after_ms=1500)),
            "already_paid",
            "the customer interrupts the reminder; the agent stops at once",
        ),
        Scenario(
            "silence",
            (),
            "no_response",
            "nobody speaks: two reprompts, then a polite close",
        ),
        Scenario(
            "dtmf_opt_out",
            (Step(dtmf="9", barge_after_ms=2500),),
            "opted_out",
            "the customer presses 9 during the disclosure",
        ),
    )
}

SLOTS = {"en-US": SLOTS_EN}
SCENARIOS = {"en-US": SCENARIOS_EN}
