"""What every store function needs besides its session: the phone-hash key and the gate's settings."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import timedelta

from agent.compliance.callback import OfficialNumbers
from agent.compliance.phone import InvalidPhone, hash_phone, mask_phone, normalize_e164
from agent.store.crypto import SHIPPED_DATA_KEY, FieldCipher


@dataclass(frozen=True, slots=True)
class StoreContext:
    """Fixed for the life of a Store: how numbers are hashed and which defaults the gate uses."""

    phone_hash_key: str
    default_jurisdiction: str = "US"
    token_ttl: timedelta = timedelta(seconds=300)
    max_attempts_per_day: int | None = None
    cipher: FieldCipher = field(default_factory=lambda: FieldCipher(SHIPPED_DATA_KEY))
    official: OfficialNumbers | None = None  # callback slots must be one of these (None: unchecked)

    def jurisdiction(self, given: str | None) -> str:
        """The jurisdiction named, or the store default, upper-cased."""
        return (given or self.default_jurisdiction).upper()

    def phone(self, phone: str, jurisdiction: str | None = None) -> tuple[str, str]:
        """(keyed hash, masked form) of a number; InvalidPhone when it cannot be normalised."""
        region = "CN" if self.jurisdiction(jurisdiction) == "CN" else "US"
        e164 = normalize_e164(phone, region)
        return hash_phone(e164, self.phone_hash_key), mask_phone(e164)

    def phone_hash_or_none(self, phone: str | None, jurisdiction: str | None = None) -> str | None:
        """The keyed hash of a number, or None when there is no usable number."""
        if not phone:
            return None
        try:
            return self.phone(phone, jurisdiction)[0]
        except InvalidPhone:
            return None


def key_fingerprint(phone_hash_key: str) -> str:
    """A value that identifies the phone-hash key without revealing it (stored to catch a mismatch)."""
    digest = hmac.new(phone_hash_key.encode("utf-8"), b"voice-agent phone key check", hashlib.sha256)
    return digest.hexdigest()[:32]


def token_hash(token: str) -> str:
    """sha256 hex of a call token (only the hash is stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
