"""The FreeSWITCH and jambonz dialling keys reach their control planes; ClueCon is a shipped secret."""

from __future__ import annotations

import pytest

from agent.config import Settings
from agent.dialer.base import Origination
from agent.dialer.freeswitch import FreeswitchControl, _Call
from agent.dialer.jambonz import JambonzControl
from agent.dialer.service import build_planes
from agent.server.default_secrets import SECRETS, shipped_in_use


@pytest.fixture(autouse=True)
def _no_repo_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_AGENT_CONFIG", "/nonexistent/config.yaml")


ORIGINATION = Origination(1, "c", "t", "+12025550111", "+12025550100")


def _settings(**campaigns: object) -> Settings:
    return Settings.model_validate({"server": {"public_url": "https://node.example"}, "campaigns": campaigns})


async def test_configured_gateways_get_their_planes_with_the_configured_values() -> None:
    s = _settings(
        freeswitch={"esl_host": "10.0.0.5", "esl_port": 8022, "esl_password": "pw",
                    "endpoint": "sofia/gateway/gw/{number}", "target": "amd XML out", "sample_rate": 16000,
                    "reconnect_s": 1.5, "lost_after_s": 30},
        jambonz={"api_base": "https://jz.example/api", "account_sid": "acct", "api_key": "key",
                 "sample_rate": 16000, "machine_detection": True},
    )
    planes = build_planes(s)
    fs, jz = planes["freeswitch"], planes["jambonz"]
    assert isinstance(fs, FreeswitchControl) and isinstance(jz, JambonzControl)
    assert (fs._host, fs._port, fs._password, fs._target) == ("10.0.0.5", 8022, "pw", "amd XML out")
    assert (fs._rate, fs._reconnect_s, fs._lost_after_s) == (16000, 1.5, 30)
    fork = fs.fork_line(_Call(ORIGINATION, "u-1", "j-1"))
    assert fork.startswith("uuid_audio_fork u-1 start wss://node.example/ws/freeswitch mono 16k ")
    assert fork.endswith('"sampleRate":16000,"va_screen":"1"} true true 16000')  # a campaign call: screened
    assert "sofia/gateway/gw/+12025550111 amd XML out" in fs.originate_line(ORIGINATION, "u-1")
    assert jz._media == "wss://node.example/ws/jambonz"
    assert (jz._rate, jz._amd, jz._sid) == (16000, True, "acct")
    assert jz._http.headers["authorization"] == "Bearer key"
    await jz.close()


def test_no_credentials_no_plane_and_half_credentials_are_refused() -> None:
    assert build_planes(_settings()) == {}
    with pytest.raises(ValueError, match="esl_password"):
        build_planes(_settings(freeswitch={"esl_host": "10.0.0.5"}))
    with pytest.raises(ValueError, match="api_key"):
        build_planes(_settings(jambonz={"api_base": "https://jz.example/api", "account_sid": "a"}))


def test_freeswitchs_shipped_event_socket_password_is_refused_off_loopback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    (secret,) = [s for s in SECRETS if s.key == "campaigns.freeswitch.esl_password"]
    assert secret.env == "VOICE_AGENT_CAMPAIGNS__FREESWITCH__ESL_PASSWORD"
    monkeypatch.setenv(secret.env, "ClueCon")
    assert secret in shipped_in_use(Settings())
    monkeypatch.setenv(secret.env, "a-fresh-one")
    assert secret not in shipped_in_use(Settings())
    assert Settings().campaigns.freeswitch.esl_password == "a-fresh-one"

