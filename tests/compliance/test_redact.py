"""Redaction of cards, 身份证, phones (written and spoken) and emails (SPEC 7.7)."""

from __future__ import annotations

import pytest

from agent.compliance.redact import cn_id_ok, luhn_ok, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111 ok", "my card is [CARD] ok"),
        ("card 4111-1111-1111-1111.", "card [CARD]."),
        ("5500000000000004", "[CARD]"),
        ("身份证号11010519491231002X", "身份证号[ID]"),
        ("ID 440304199003071248 thanks", "ID [ID] thanks"),
        ("call me at (415) 555-1234.", "call me at [PHONE]."),
        ("my number is +1 415 555 1234 thanks", "my number is [PHONE] thanks"),
        ("415.555.1234", "[PHONE]"),
        ("four one five five five five one two three four", "[PHONE]"),
        ("it's four one five, five five five, one two three four.", "it's [PHONE]."),
        ("four one five double five five one two three four", "[PHONE]"),
        ("我的手机是13812345678", "我的手机是[PHONE]"),
        ("+86 138 1234 5678", "[PHONE]"),
        ("一三八一二三四五六七八", "[PHONE]"),
        ("幺三八 幺二三四 五六七八", "[PHONE]"),
        ("电话010-12345678", "电话[PHONE]"),
        ("write to ann.lee+x@example.co.uk please", "write to [EMAIL] please"),
        ("in 2025 4155551234 is mine", "in 2025 [PHONE] is mine"),
        ("(415) 555-1234 and 4111111111111111", "[PHONE] and [CARD]"),
    ],
)
def test_redacts(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I owe 1,234.50 dollars",
        "due on 2025-03-15",
        "oh okay, one two three",
        "press 9",
        "4111 1111 1111 1112",  # fails Luhn
        "11010519491231002Y",
        "room 1234",
        "I can pay two hundred on Friday",
    ],
)
def test_leaves_other_numbers(text: str) -> None:
    assert redact(text) == text


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert cn_id_ok("11010519491231002X") and not cn_id_ok("110105194912310022")
