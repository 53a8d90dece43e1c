"""The dialler's copy of a member's number: AES-GCM under a key derived from `campaigns.number_key`.

The store otherwise keeps only the keyed hash and the masked form (SPEC 7.7); a campaign
must be able to dial, so it keeps this one sealed copy, opened only when placing a call.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class NumberBox:
    """Seal and open phone numbers; the associated data binds a sealed number to its hash."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("campaigns.number_key must be set (it seals the numbers the dialer dials)")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"voice-agent", info=b"campaign-number").derive(
            secret.encode()
        )
        self._aead = AESGCM(key)

    def seal(self, e164: str, phone_hash: str) -> str:
        """The sealed number (base64 of nonce + ciphertext)."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, e164.encode(), phone_hash.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str, phone_hash: str) -> str:
        """The number again; ValueError when the key or the hash does not match."""
        raw = base64.b64decode(sealed)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], phone_hash.encode()).decode()
        except InvalidTag as exc:
            raise ValueError("the sealed number does not open with this key (campaigns.number_key)") from exc
