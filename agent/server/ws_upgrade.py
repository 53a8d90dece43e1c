"""Checks on a gateway's WebSocket upgrade request, made before the socket is accepted.

Twilio signs the upgrade of a Media Streams socket like any webhook: `X-Twilio-Signature`
is base64(HMAC-SHA1(auth token, URL)) over the exact `wss://` URL it dialled (a GET has
no body parameters; the query, if any, is part of the URL). Behind a proxy the server
cannot see that URL, so it is rebuilt from `server.public_url` (the base the gateways
reach us at) and the request's path and query, the way Twilio's own validators rebuild
it: the scheme as ws/wss, and with and without the default port.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from agent.server.auth import check_twilio_signature

SIGNATURE_HEADER = "x-twilio-signature"
WS_SCHEMES = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}
DEFAULT_PORTS = {"wss": 443, "ws": 80}


class _ServerSettings(Protocol):
    public_url: str


class _TransportSettings(Protocol):
    twilio_auth_token: str


class _Settings(Protocol):
    @property
    def server(self) -> _ServerSettings: ...

    @property
    def transports(self) -> _TransportSettings: ...


def upgrade_headers(scope: Mapping[str, Any]) -> dict[str, str]:
    """The upgrade request's headers by lower-cased name (ASGI gives raw bytes pairs)."""
    pairs: Iterable[tuple[bytes, bytes]] = scope.get("headers") or ()
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in pairs}


def signed_urls(public_url: str, path: str, query: str) -> list[str]:
    """The URLs Twilio may have signed for a socket on `path`: the ws(s) form of `public_url`
    joined with the path and query, as written, with the default port, and without it."""
    base = urlsplit(public_url.strip())
    scheme = WS_SCHEMES.get(base.scheme.lower(), base.scheme.lower())
    host = (base.hostname or "").lower()
    if not host:
        return []
    prefix = base.path.rstrip("/")
    parts: list[str] = []
    default = DEFAULT_PORTS.get(scheme)
    netlocs = [base.netloc]
    if base.port is None and default is not None:
        netlocs.append(f"{base.netloc}:{default}")
    elif base.port == default:
        netlocs.append(base.netloc.rsplit(":", 1)[0])
    for netloc in netlocs:
        url = urlunsplit((scheme, netloc, prefix + path, query, ""))
        if url not in parts:
            parts.append(url)
    return parts


def twilio_refusal(settings: _Settings, path: str, query: str, headers: Mapping[str, str]) -> str | None:
    """Why a Twilio upgrade must be refused, or None when it may proceed.

    Enforced only when `transports.twilio_auth_token` is set; then a missing, wrong or
    uncheckable signature refuses the socket before anything is read from it.
    """
    token = settings.transports.twilio_auth_token
    if not token:
        return None
    signature = headers.get(SIGNATURE_HEADER)
    if not signature:
        return "no X-Twilio-Signature on the upgrade (transports.twilio_auth_token is set)"
    urls = signed_urls(settings.server.public_url, path, query)
    if not urls:
        return ("transports.twilio_auth_token is set but server.public_url is not: "
                "set it to the wss:// base Twilio dials")
    if any(check_twilio_signature(url, {}, signature, token) for url in urls):
        return None
    return f"X-Twilio-Signature does not match {urls[0]} (check server.public_url and the auth token)"


def upgrade_refusal(protocol: str, settings: _Settings, path: str, query: str,
                    headers: Mapping[str, str]) -> str | None:
    """Why this gateway's upgrade must be refused before it is accepted, or None."""
    if protocol == "twilio":
        return twilio_refusal(settings, path, query, headers)
    return None
