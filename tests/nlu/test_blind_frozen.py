"""A frozen blind set stays frozen: its files match the sha256 recorded when it was written."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SUMS = sorted(HERE.glob("blind*/SHA256SUMS"))


@pytest.mark.parametrize("sums", SUMS, ids=lambda p: p.parent.name)
def test_blind_set_unchanged(sums: Path) -> None:
    for line in sums.read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        actual = hashlib.sha256((sums.parent / name).read_bytes()).hexdigest()
        assert actual == digest, f"{sums.parent.name}/{name} was edited after it was frozen"


def test_the_newest_blind_sets_are_covered() -> None:
    assert {p.parent.name for p in SUMS} >= {"blind4", "blind5", "blind6", "blind7", "blind8", "blind9"}
