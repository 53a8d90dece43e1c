"""Caller-ID policy (SPEC 7.10): one registered number per customer, the same one every time.

The number is picked by rendezvous hashing on a keyed HMAC of the member's key: stable
across calls, nodes and restarts, spread evenly over the lender's numbers, and when a
number is added or withdrawn only the customers of that number move. Nothing here looks at
whether earlier calls were answered, so the choice can never rotate to get past blocking.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


def choose_caller_id(member_key: str, caller_ids: Sequence[str], secret: str) -> str:
    """The registered number this member is always called from; ValueError when none is registered."""
    if not caller_ids:
        raise ValueError("the campaign has no registered caller IDs")
    if not secret:
        raise ValueError("the caller-ID secret must not be empty")

    def weight(number: str) -> bytes:
        return hmac.new(secret.encode(), f"{member_key}\x00{number}".encode(), hashlib.sha256).digest()

    return max(sorted(set(caller_ids)), key=weight)
