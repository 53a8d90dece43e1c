"""Build this node's dialer from the `campaigns` settings (control planes, slots, callback URL)."""

from __future__ import annotations

import socket
from typing import Any

from agent.dialer.base import ControlPlane
from agent.dialer.dialer import Dialer
from agent.store.campaigns import CampaignStore


def media_url(public_url: str, protocol: str) -> str:
    """The WebSocket URL gateways connect a call's media to, e.g. wss://host/ws/twilio."""
    base = public_url.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return f"{base}/ws/{protocol}"


def build_planes(settings: Any) -> dict[str, ControlPlane]:
    """The control planes the configuration names (a gateway with no credentials is left out)."""
    c, public = settings.campaigns, settings.server.public_url
    planes: dict[str, ControlPlane] = {}
    if c.twilio.account_sid:
        from agent.dialer.twilio import TwilioControl

        t = c.twilio
        planes["twilio"] = TwilioControl(t.account_sid, t.auth_token, media_url(public, "twilio"),
                                         api_base=t.api_base, machine_detection=t.machine_detection)
    if c.asterisk.ari_url:
        from agent.dialer.asterisk import AriControl

        planes["asterisk"] = AriControl(c.asterisk.ari_url, c.asterisk.ari_user, c.asterisk.ari_password,
                                        context=c.asterisk.context, endpoint=c.asterisk.endpoint)
    if c.freeswitch.esl_host:
        from agent.dialer.freeswitch import FreeswitchControl

        f = c.freeswitch
        planes["freeswitch"] = FreeswitchControl(
            f.esl_host, f.esl_port, f.esl_password, media_url(public, "freeswitch"), endpoint=f.endpoint,
            target=f.target, sample_rate=f.sample_rate, reconnect_s=f.reconnect_s,
            lost_after_s=f.lost_after_s)
    if c.jambonz.api_base:
        from agent.dialer.jambonz import JambonzControl

        j = c.jambonz
        planes["jambonz"] = JambonzControl(j.api_base, j.account_sid, j.api_key, media_url(public, "jambonz"),
                                           sample_rate=j.sample_rate, machine_detection=j.machine_detection)
    return planes


def build_dialer(app: Any, campaigns: CampaignStore) -> Dialer:
    """The node's dialer for a server app (needs server.public_url for the gateways' callbacks)."""
    settings = app.state.settings
    c = settings.campaigns
    if not settings.server.public_url:
        raise ValueError("server.public_url must be set for the dialer (gateways call it back there)")
    return Dialer(
        campaigns=campaigns, store=app.state.store, planes=build_planes(settings),
        node_id=c.node_id or socket.gethostname(), slots=c.node_slots, public_url=settings.server.public_url,
        callback_secret=c.callback_secret, tick_s=c.tick_ms / 1000, ring_timeout_s=c.ring_timeout_s,
        max_call_s=settings.call.max_call_s,
    )
