"""Field encryption at rest (AES-256-GCM): customer names, call slots and turn text (SPEC 7.7).

A sealed value is `enc1:` + base64(nonce ‖ ciphertext ‖ tag); the associated data names the
column and the row ("turns.text:<call_id>:<seq>"), so a value copied to another row does not
decrypt. Values without the prefix are plain text from before encryption and read as is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1:"
SHIPPED_DATA_KEY = "dm9pY2UtYWdlbnQgc2hpcHBlZCBkZXYgZGF0YSBrZXk="  # public: refused off loopback


class DecryptError(ValueError):
    """A sealed value that this key cannot open (wrong key, or the value was moved or changed)."""


def generate_key() -> str:
    """A fresh random data key, base64 (for store.data_key)."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


class FieldCipher:
    """Seal and open text fields with one 256-bit key."""

    def __init__(self, key_b64: str) -> None:
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("store.data_key must be base64 (voice-agent keys generate makes one)") from exc
        if len(key) != 32:
            raise ValueError("store.data_key must be 32 bytes, base64 (voice-agent keys generate makes one)")
        self._aead = AESGCM(key)
        self.fingerprint = hmac.new(key, b"voice-agent data key check", hashlib.sha256).hexdigest()[:32]

    def seal(self, plaintext: str, where: str) -> str:
        """The sealed form of `plaintext` for the column and row named by `where`."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), where.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, value: str, where: str) -> str:
        """The plain text of a sealed value (plain text passes through); DecryptError if it cannot."""
        if not value.startswith(PREFIX):
            return value
        try:
            raw = base64.b64decode(value[len(PREFIX) :], validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], where.encode("utf-8")).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DecryptError(f"cannot decrypt {where.split(':')[0]} (wrong store.data_key?)") from exc


def is_sealed(value: str) -> bool:
    """True for a value written by FieldCipher.seal."""
    return value.startswith(PREFIX)
