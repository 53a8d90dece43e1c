"""Phone normalisation, keyed hash and masking (SPEC 7.7)."""

from __future__ import annotations

import pytest

from agent.compliance.phone import InvalidPhone, hash_phone, mask_phone, normalize_e164


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(415) 555-4567", "US", "+14155554567"),
        ("1-415-555-4567", "US", "+14155554567"),
        ("+1 415 555 4567", "CN", "+14155554567"),
        ("138 1234 5678", "CN", "+8613812345678"),
        ("010-12345678", "CN", "+861012345678"),
        ("0086 138 1234 5678", "US", "+8613812345678"),
    ],
)
def test_normalize(raw: str, region: str, e164: str) -> None:
    assert normalize_e164(raw, region) == e164


@pytest.mark.parametrize("raw", ["hello", "12345", "", "+0123456789", "555-1234"])
def test_invalid(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_e164(raw, "US")


def test_mask_and_hash() -> None:
    assert mask_phone("+14155554567") == "+1******4567"
    assert mask_phone("+8613812345678") == "+86*******5678"
    h1, h2 = hash_phone("+14155554567", "k1"), hash_phone("+14155554567", "k2")
    assert h1 != h2 and len(h1) == 64 and "4567" not in mask_phone("+14155554567")[:-4]
    with pytest.raises(ValueError):
        hash_phone("+14155554567", "")
