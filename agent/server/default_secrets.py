"""Secrets that ship with the repository (public, so never safe off loopback), and fresh values.

`voice-agent serve` refuses a non-loopback bind while any of these holds its shipped value;
`voice-agent keys generate` prints a fresh value for each. A module that adds a secret to the
configuration appends a `Secret` to SECRETS.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.store.crypto import SHIPPED_DATA_KEY, generate_key

if TYPE_CHECKING:
    from agent.config import Settings


@dataclass(frozen=True, slots=True)
class Secret:
    """One configured secret: where it lives, its shipped public value(s), how to make a fresh one."""

    key: str  # the config key, e.g. store.phone_hash_key
    shipped: frozenset[str]  # values published in the repository
    values: Callable[[Settings], list[str]]  # the configured value(s)
    generate: Callable[[], str]  # a fresh value, as the config/env value
    env_value: Callable[[str], str] = str  # the value as VOICE_AGENT_... wants it

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return "VOICE_AGENT_" + "__".join(part.upper() for part in self.key.split("."))

    def shipped_in_use(self, settings: Settings) -> bool:
        """True when a configured value is one of the shipped ones."""
        return any(v in self.shipped for v in self.values(settings))


def _api_keys(settings: Settings) -> list[str]:
    return [*settings.server.api_keys, *(rk.key for rk in settings.server.role_keys)]


SECRETS: list[Secret] = [
    Secret(
        "server.api_keys",
        frozenset({"dev-key-change-me"}),
        _api_keys,
        lambda: secrets.token_urlsafe(32),
        lambda v: json.dumps([v]),
    ),
    Secret(
        "store.phone_hash_key",
        frozenset({"change-me-phone-hash-key"}),
        lambda s: [s.store.phone_hash_key],
        lambda: secrets.token_urlsafe(32),
    ),
    Secret("store.data_key", frozenset({SHIPPED_DATA_KEY}), lambda s: [s.store.data_key], generate_key),
    Secret(
        "campaigns.number_key",
        frozenset({"change-me-campaign-number-key"}),
        lambda s: [s.campaigns.number_key],
        lambda: secrets.token_urlsafe(32),
    ),
    Secret(
        "campaigns.caller_id_secret",
        frozenset({"change-me-caller-id-secret"}),
        lambda s: [s.campaigns.caller_id_secret],
        lambda: secrets.token_urlsafe(32),
    ),
    Secret(
        "campaigns.callback_secret",
        frozenset({"change-me-callback-secret"}),
        lambda s: [s.campaigns.callback_secret],
        lambda: secrets.token_urlsafe(32),
    ),
    Secret(  # FreeSWITCH's own shipped Event Socket password (event_socket.conf.xml)
        "campaigns.freeswitch.esl_password",
        frozenset({"ClueCon"}),
        lambda s: [s.campaigns.freeswitch.esl_password],
        lambda: secrets.token_urlsafe(24),
    ),
]


def shipped_in_use(settings: Settings) -> list[Secret]:
    """The secrets still holding a shipped value."""
    return [s for s in SECRETS if s.shipped_in_use(settings)]


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() in {"localhost", "localhost.localdomain", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(host: str, found: list[Secret]) -> str:
    """The one line `serve` prints when it refuses to bind off loopback."""
    names = ", ".join(s.key for s in found)
    envs = ", ".join(s.env for s in found)
    return (
        f"refusing to serve on {host}: {names} still hold the shipped public default; "
        f"set fresh values in config.yaml or {envs} (voice-agent keys generate prints them)"
    )


def fresh_env_lines() -> list[str]:
    """`VAR=value` lines with a fresh value for every secret."""
    lines = []
    for s in SECRETS:
        value = s.env_value(s.generate())
        lines.append(f"{s.env}='{value}'" if any(c in value for c in "[]\" ") else f"{s.env}={value}")
    return lines
