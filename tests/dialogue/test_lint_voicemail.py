"""Lint rule `voicemail-content`: the voicemail state holds only a Reg F limited-content message.

Each forbidden kind of content (generated over the word list and every non-phone slot) put
into the shipped voicemail state is reported; the shipped scripts pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.dialogue.linter import lint_paths, lint_text
from agent.dialogue.loader import load_script

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"
EN = PROMPTS / "en-US" / "repayment_reminder.yaml"
EN_CREDIT = PROMPTS / "en-US" / "credit_limit_notice.yaml"
RULE = "voicemail-content"
CALL_BACK = "      - Please call Jordan Lee back at {callback_number}.\n"
SAY = "    say:\n      - Hello, this is a message from Meridian Services.\n"


def _voicemail_rules(text: str, path: Path = EN) -> list[str]:
    return [f.rule for f in lint_text(text, str(path), PROMPTS) if f.rule == RULE]


def _with_sentence(sentence: str, path: Path = EN) -> str:
    text = path.read_text(encoding="utf-8")
    assert CALL_BACK in text
    return text.replace(CALL_BACK, CALL_BACK + f"      - {sentence}\n", 1)


@pytest.mark.parametrize("path", [EN, EN_CREDIT], ids=lambda p: p.stem)
def test_the_shipped_voicemail_state_passes(path: Path) -> None:
    assert "  voicemail:\n" in path.read_text(encoding="utf-8")
    assert lint_paths([path], PROMPTS) == []


def _non_phone_slots(captured: bool) -> list[str]:
    script = load_script(EN)
    slots = script.slots.items()
    return sorted(n for n, s in slots if s.type != "phone" and (s.capture is not None) == captured)


@pytest.mark.parametrize("slot", _non_phone_slots(captured=False))
def test_every_non_phone_slot_is_refused(slot: str) -> None:
    # the amount, the due date, the creditor's and the customer's names
    assert _voicemail_rules(_with_sentence(f"It is about {{{slot}}}.")) != []


@pytest.mark.parametrize("slot", _non_phone_slots(captured=True))
def test_a_captured_slot_is_refused_by_the_loader_or_by_the_rule(slot: str) -> None:
    text = _with_sentence(f"It is about {{{slot}}}.")
    assert "undefined-slot" in {f.rule for f in lint_text(text, str(EN), PROMPTS)}  # nothing to say yet
    closing = "    interruptible: false\n    end: voicemail\n"
    needs = text.replace(closing, f"    needs:\n      {slot}: ask_date\n" + closing, 1)
    assert len(_voicemail_rules(needs)) >= 2  # the slot, and `needs`


WORDS = [
    "debt", "debts", "collection", "collections", "collector", "overdue", "past due", "past-due", "late",
    "arrears", "delinquent", "delinquency", "payment", "pay", "paying", "owe", "owed", "owing", "balance",
    "loan", "credit", "account", "amount", "due", "bill", "billing", "invoice", "repayment", "money",
    "dollars", "card", "bank", "lender", "finance", "financial", "legal", "lawsuit", "court", "attorney",
    "urgent", "important matter", "final notice", "reminder",
]


@pytest.mark.parametrize("word", WORDS)
def test_every_word_that_tells_what_the_call_is_about_is_refused(word: str) -> None:
    for sentence in (f"This is about your {word}.", f"{word.capitalize()} matters to us."):
        assert _voicemail_rules(_with_sentence(sentence)) != [], sentence


@pytest.mark.parametrize("literal", ["$1,234.50", "1234 dollars", "March 5, 2031", "2031-03-05",
                                     "reference 88412", "800-555-0199"])
def test_digits_in_the_text_are_refused(literal: str) -> None:
    assert _voicemail_rules(_with_sentence(f"Please mention {literal}.")) != []


def test_an_ai_disclosure_block_or_a_question_is_refused() -> None:
    text = EN.read_text(encoding="utf-8")
    disclosed = text.replace(SAY, "    disclosure:\n      - Hello, this is an automated assistant.\n" + SAY)
    # refused by the model's own rule: only the start state carries the AI disclosure
    assert "disclosure-missing" in {f.rule for f in lint_text(disclosed, str(EN), PROMPTS)}
    automated = _with_sentence("This is an automated assistant.")
    assert _voicemail_rules(automated) != []
    asked = _with_sentence("Can you hear me?").replace(
        "    end: voicemail\n", "    ask: Can you call us back?\n    expect:\n      affirm: reminder\n")
    assert RULE in _voicemail_rules(asked)  # not closing: something could follow the message


def test_anything_after_the_message_but_the_hang_up_is_refused() -> None:
    text = EN.read_text(encoding="utf-8")
    assert "    end: voicemail\n" in text
    listening = text.replace("    end: voicemail\n", "    expect:\n      affirm: reminder\n", 1)
    assert _voicemail_rules(listening) != []
    other_end = text.replace("    end: voicemail\n", "    end: completed\n", 1)
    assert _voicemail_rules(other_end) != []


def test_the_message_must_give_a_number_and_ask_for_a_reply() -> None:
    text = EN.read_text(encoding="utf-8")
    block = text[text.index("  voicemail:\n"):text.index("\nglobal:")]
    bare = ("  voicemail:\n    say:\n      - Hello, this is a message from Meridian Services.\n"
            "      - Thank you.\n    end: voicemail\n")
    findings = [f for f in lint_text(text.replace(block, bare), str(EN), PROMPTS) if f.rule == RULE]
    messages = " ".join(f.message for f in findings)
    assert "telephone number" in messages and "reply" in messages


@pytest.mark.parametrize("intro", [
    "Hello, this is Jordan Lee with Meridian Services.", "Hi, my name is Sam.", "I'm Alex from Meridian.",
    "I am calling from Meridian Services.",
])
def test_the_synthetic_voice_may_not_introduce_itself_as_a_person(intro: str) -> None:
    text = EN.read_text(encoding="utf-8")
    first = "      - Hello, this is a message from Meridian Services.\n"
    assert first in text
    findings = [f for f in lint_text(text.replace(first, f"      - {intro}\n", 1), str(EN), PROMPTS)
                if f.rule == RULE]
    assert any("introduces itself as a person" in f.message for f in findings)


def test_another_state_that_ends_as_voicemail_is_held_to_the_same_rule() -> None:
    text = EN.read_text(encoding="utf-8")
    extra = ("  machine_message:\n    say: Your payment of {amount_due} is overdue.\n    end: voicemail\n"
             "\nglobal:")
    text = text.replace("\nglobal:", "\n" + extra, 1).replace(
        "      callback_later: callback_close\n    dtmf:\n      1: affirm\n      2: deny\n"
        "    hint: [yes, no, speaking, wrong number, stop calling]",
        "      callback_later: callback_close\n      request_human: machine_message\n    dtmf:\n"
        "      1: affirm\n      2: deny\n    hint: [yes, no, speaking, wrong number, stop calling]", 1)
    findings = [f for f in lint_text(text, str(EN), PROMPTS) if f.rule == RULE]
    assert findings and all("machine_message" in f.message for f in findings)
