"""Rule NLU on en-US phrasings: must-not-miss opt-outs, hard negatives, ASR-style noise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from agent.nlu.intents import INTENTS, MUST_NOT_MISS, ChainedNlu, NluResult
from agent.nlu.rules import LexiconError, RuleNlu

LEXICON = Path(__file__).resolve().parents[2] / "prompts" / "en-US" / "nlu.yaml"
NLU = RuleNlu.from_file(LEXICON)
TODAY = dt.date(2025, 3, 5)  # a Wednesday

OPT_OUT = [
    "Stop calling me.",
    "stop calling",
    "Please stop calling this number.",
    "Lose my number.",
    "lose my number please",
    "Take me off your list.",
    "take me off your calling list",
    "Remove me from your list",
    "remove my number from your database",
    "Don't call this number again.",
    "Don't call me again!",
    "do not call me anymore",
    "Never call me again.",
    "This is harassment.",
    "you are harassing me",
    "Stop harassing me",
    "Unsubscribe.",
    "opt out",
    "I want to opt out",
    "Put me on your do not call list",
    "add me to the do not call list",
    "No more calls please.",
    "Leave me alone.",
    "stop",
    "Stop it.",
    "Quit calling me.",
    "delete my number",
    "I don't want these calls",
    "I don't want any more calls",
    "Don't ever call here again",
    "Stop contacting me",
    "stop bothering me",
    "I'm not interested, stop calling",
    "Yes, stop calling me",
    "Don't call me.",
    "Don't call back.",
    "uh, stop calling me",
    "Stop Colin",
    "stop callin me",
    "loose my number",
    "take me of your list",
    "un subscribe",
    "opt-out",
    "this is harrassment",
    "um please just stop",
    "Stopped calling me.",
    "I told you people to stop calling",
    "stop these calls",
    "enough with the calls",
    "Who is this? Stop calling me.",
    "no more robocalls",
]
COMPLAINT = [
    "I want to file a complaint.",
    "I'm going to report you to the CFPB.",
    "I'll complain to the BBB",
    "this is unacceptable",
    "I want to make a complaint about these calls",
    "terrible service",
    "I'll report this to the attorney general",
]
AFFIRM = [
    "Yes.",
    "yeah",
    "Yep, that's me.",
    "Speaking.",
    "This is she.",
    "This is he",
    "That's right.",
    "Correct.",
    "Uh huh.",
    "mm hmm",
    "Sure.",
    "yes it is",
    "Yes, speaking.",
    "you got him",
    "Absolutely.",
    "um yeah",
    "Yes I can.",
    "okay",
    "that is correct",
]
DENY = [
    "No.",
    "Nope.",
    "nah",
    "Not really.",
    "No, I can't.",
    "I don't think so.",
    "No way.",
    "I'm not going to pay that.",
    "No thanks.",
    "absolutely not",
]
WRONG_PERSON = [
    "You have the wrong number.",
    "Wrong number.",
    "No, this is his wife.",
    "She's not here right now.",
    "He doesn't live here anymore.",
    "There's no one here by that name.",
    "I'm her husband.",
    "No, this isn't him.",
    "I just got this number.",
    "Wrong person.",
    "Never heard of her.",
]
ASK_IS_AI = [
    "Are you a robot?",
    "Is this a real person?",
    "Am I talking to a machine?",
    "Are you human?",
    "Is this a recording?",
    "are you a bot",
    "Are you AI?",
    "Is this an automated call?",
    "are you a robert",
    "Am I speaking to a real person?",
    "Are you a real person or a machine?",
    "Is this artificial intelligence?",
]
ASK_WHO = [
    "Who is this?",
    "Who's calling?",
    "Who are you?",
    "What company is this?",
    "What is this about?",
    "Where are you calling from?",
    "who",
    "Who did you say you were?",
    "What's this regarding?",
]
PROMISE = [
    "I'll pay on Friday.",
    "I can pay next Friday.",
    "I'll make the payment on the fifteenth.",
    "I'll pay on the 5th",
    "I can send it tomorrow.",
    "I'll pay it by the end of the month.",
    "next Friday",
    "Friday",
    "The fifteenth.",
    "In two weeks.",
    "March 20th",
    "I will pay it",
    "I'll pay.",
    "I'm going to pay it next week",
    "I get paid on the 20th, I'll pay then",
    "yes, I'll pay on Friday",
    "I can't pay until Friday.",
    "I'll have the money on Monday",
]
ALREADY_PAID = [
    "I already paid.",
    "I paid it yesterday.",
    "I already made the payment.",
    "It's been paid.",
    "I paid that last week.",
    "The check is in the mail.",
    "I have autopay set up.",
    "I all ready payed",
    "I just paid it online",
    "I sent the payment on Monday",
]
DISPUTE = [
    "That's not my debt.",
    "I don't owe you anything.",
    "That amount is wrong.",
    "I never borrowed money from you.",
    "This is a scam.",
    "I dispute this charge.",
    "That's not the right amount.",
    "I don't recognize this account.",
    "I was overcharged.",
]
HARDSHIP = [
    "I can't pay right now.",
    "I lost my job.",
    "I can't afford it.",
    "I don't have the money.",
    "Money is tight this month.",
    "I'm unemployed.",
    "I got laid off.",
    "I'm in the hospital.",
    "I'm struggling to pay my bills",
    "I can't pay",
    "I'm broke",
]
CALLBACK = [
    "Call me later.",
    "Can you call me back tomorrow?",
    "I'm driving right now.",
    "I'm at work.",
    "This is a bad time.",
    "Call me back at 3 pm.",
    "Not a good time.",
    "I'm busy, call me back later",
    "Can you call me tomorrow morning?",
    "Don't call me now, call me later.",
    "I'll call you back.",
    "I'm in a meeting",
    "Try me again this evening",
]
REQUEST_HUMAN = [
    "Can I talk to a real person?",
    "I want to speak to a representative.",
    "Let me speak to a human.",
    "Transfer me to an agent.",
    "Operator.",
    "Can I speak with someone?",
    "Get me a real person",
    "I need to talk to a supervisor",
]
REPEAT = [
    "What?",
    "Can you repeat that?",
    "Sorry, what did you say?",
    "Say that again.",
    "Pardon?",
    "Come again?",
    "I didn't catch that.",
    "Huh?",
    "one more time please",
]
UNKNOWN = [
    "",
    "   ",
    "uh",
    "The weather is nice today.",
    "My dog is barking.",
    "hmm",
    "banana",
]
HARD_NEGATIVES_NOT_OPT_OUT = [
    ("Call me later.", "callback_later"),
    ("I can't pay now.", "hardship"),
    ("Can you call me back tomorrow?", "callback_later"),
    ("Don't call me now, call me later.", "callback_later"),
    ("Don't call me at work, call me in the evening.", "callback_later"),
    ("I'm not interested in paying.", "deny"),
    ("Take me off speaker.", None),
    ("Don't stop, keep going.", None),
    ("Could you call me back next week?", "callback_later"),
    ("I can't talk right now.", "callback_later"),
    ("Please don't hang up.", None),
    ("Can you remove the late fee?", None),
]

TABLE = (
    [(t, "opt_out") for t in OPT_OUT]
    + [(t, "complaint") for t in COMPLAINT]
    + [(t, "affirm") for t in AFFIRM]
    + [(t, "deny") for t in DENY]
    + [(t, "wrong_person") for t in WRONG_PERSON]
    + [(t, "ask_is_ai") for t in ASK_IS_AI]
    + [(t, "ask_who_is_calling") for t in ASK_WHO]
    + [(t, "promise_to_pay") for t in PROMISE]
    + [(t, "already_paid") for t in ALREADY_PAID]
    + [(t, "dispute") for t in DISPUTE]
    + [(t, "hardship") for t in HARDSHIP]
    + [(t, "callback_later") for t in CALLBACK]
    + [(t, "request_human") for t in REQUEST_HUMAN]
    + [(t, "repeat") for t in REPEAT]
    + [(t, "unknown") for t in UNKNOWN]
)


def test_table_is_big_and_covers_every_intent() -> None:
    assert len(TABLE) + len(HARD_NEGATIVES_NOT_OPT_OUT) >= 150
    assert {intent for _, intent in TABLE} == set(INTENTS)


@pytest.mark.parametrize(("text", "intent"), TABLE)
def test_classify(text: str, intent: str) -> None:
    result = NLU.classify(text, today=TODAY)
    assert result.intent == intent, (text, NLU.normalize(text), NLU.matches(NLU.normalize(text)))
    assert 0.0 <= result.confidence <= 1.0
    assert (result.confidence > 0.5) == (intent != "unknown")


@pytest.mark.parametrize(("text", "intent"), HARD_NEGATIVES_NOT_OPT_OUT)
def test_hard_negatives_are_not_opt_out(text: str, intent: str | None) -> None:
    result = NLU.classify(text, today=TODAY)
    assert result.intent != "opt_out"
    if intent is not None:
        assert result.intent == intent


@pytest.mark.parametrize("text", OPT_OUT)
@pytest.mark.parametrize("expected", [None, ("affirm", "deny"), ("promise_to_pay",), ("callback_later",)])
def test_opt_out_wins_in_every_state(text: str, expected: tuple[str, ...] | None) -> None:
    assert NLU.classify(text, expected).intent == "opt_out"


@pytest.mark.parametrize(
    ("text", "expected", "intent"),
    [
        ("Yes, I already paid.", ("affirm", "deny", "wrong_person"), "affirm"),
        ("Yes, I already paid.", ("affirm", "already_paid", "promise_to_pay"), "already_paid"),
        ("yes I'll pay Friday", ("affirm", "promise_to_pay"), "promise_to_pay"),
        ("No, wrong number", ("affirm", "deny"), "wrong_person"),
    ],
)
def test_expected_intents_break_ties(text: str, expected: tuple[str, ...], intent: str) -> None:
    assert NLU.classify(text, expected).intent == intent


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("I'll pay on Friday.", {"date": "2025-03-07"}),
        ("next Friday", {"date": "2025-03-14"}),
        ("the fifteenth", {"date": "2025-03-15"}),
        ("in two weeks", {"date": "2025-03-19"}),
        ("I'll pay.", {}),
    ],
)
def test_promise_date_slot(text: str, slots: dict[str, str]) -> None:
    result = NLU.classify(text, today=TODAY)
    assert result.intent == "promise_to_pay" and dict(result.slots) == slots


def test_promise_without_today_has_no_date() -> None:
    assert dict(NLU.classify("I'll pay Friday").slots) == {}


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("Call me back at 3 pm.", "15:00"),
        ("Can you call me tomorrow morning?", "2025-03-06T09:00"),
        ("Call me later.", None),
    ],
)
def test_callback_time_slot(text: str, time: str | None) -> None:
    result = NLU.classify(text, today=TODAY)
    assert result.intent == "callback_later"
    assert result.slots.get("time") == time


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Don't CALL me!!", "do not call me"),
        ("Uh, um, I can't pay.", "i can not pay"),
        ("I\u2019m broke", "i am broke"),
        ("stop colin", "stop calling"),
        ("Are you a.i.?", "are you ai"),
    ],
)
def test_normalize(text: str, normalized: str) -> None:
    assert NLU.normalize(text) == normalized


@pytest.mark.parametrize(
    ("text", "expected", "complete"),
    [
        ("yes", ("affirm", "deny"), True),
        ("yes but", ("affirm", "deny"), False),
        ("no", ("affirm", "deny"), True),
        ("I'll pay on", ("promise_to_pay",), False),
        ("I'll pay on Friday", ("promise_to_pay",), True),
        ("I'll pay", ("promise_to_pay",), False),
        ("next Friday", ("promise_to_pay",), True),
        ("stop calling", ("affirm",), True),
        ("yes um", ("affirm",), False),
        ("the weather", ("affirm",), False),
        ("", ("affirm",), False),
        ("I already paid", ("affirm", "deny"), False),
    ],
)
def test_is_complete_answer(text: str, expected: tuple[str, ...], complete: bool) -> None:
    assert NLU.is_complete_answer(text, expected) is complete


def test_classify_is_deterministic() -> None:
    for text, _ in TABLE:
        assert NLU.classify(text, today=TODAY) == NLU.classify(text, today=TODAY)


class _Fixed:
    def __init__(self, result: NluResult) -> None:
        self.result = result

    def classify(self, text: str, expected: object = None, *, today: dt.date | None = None) -> NluResult:
        return self.result


def test_chain_prefers_rules_then_semantic_layer() -> None:
    semantic = _Fixed(NluResult("dispute", 0.8))
    chain = ChainedNlu((NLU, semantic))
    assert chain.classify("stop calling").intent == "opt_out"
    assert chain.classify("the amount seems off to me").intent == "dispute"
    weak = ChainedNlu((NLU, _Fixed(NluResult("dispute", 0.3))))
    assert weak.classify("blah").intent == "dispute"
    assert ChainedNlu((NLU,)).classify("blah").intent == "unknown"
    assert "opt_out" in MUST_NOT_MISS


@pytest.mark.parametrize(
    ("lexicon", "match"),
    [
        ({}, "needs `intents:`"),
        ({"intents": {"x": "nope"}}, "expected a mapping"),
        ({"intents": {"x": {"phrase": ["a"]}}}, "unknown keys"),
        ({"intents": {"x": {"patterns": ["("]}}}, "bad pattern"),
        ({"intents": {"x": {"rules": "a"}}}, "list of rule groups"),
        ({"normalize": {"corrections": ["a"]}, "intents": {"x": {"exact": ["a"]}}}, "heard: meant"),
    ],
)
def test_bad_lexicons(lexicon: dict[str, object], match: str) -> None:
    with pytest.raises(LexiconError, match=match):
        RuleNlu("en-US", lexicon)


def test_lexicon_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "nlu.yaml"
    bad.write_text("intents: {}\n")
    with pytest.raises(LexiconError, match="locale"):
        RuleNlu.from_file(bad)
    with pytest.raises(LexiconError, match="cannot read"):
        RuleNlu.from_file(tmp_path / "missing.yaml")


@pytest.mark.parametrize("text", ["Yes,", "yes, ", "Yes —", "是的，", "Yes..."])
def test_a_transcript_ending_mid_phrase_is_not_a_complete_answer(text: str) -> None:
    """Regression: 'Yes, speaking.' over a phone line was cut into two turns at the comma."""
    from pathlib import Path

    from agent.nlu.rules import RuleNlu

    root = Path(__file__).resolve().parents[2] / "prompts"
    locale = "zh-CN" if "是" in text else "en-US"
    nlu = RuleNlu.from_file(root / locale / "nlu.yaml")
    assert not nlu.is_complete_answer(text, ("affirm", "deny", "wrong_person"))
    assert nlu.is_complete_answer(text.rstrip(",，—. ") + ("。" if locale == "zh-CN" else "."),
                                  ("affirm", "deny", "wrong_person"))
