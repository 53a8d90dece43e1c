"""jambonz `listen` and FreeSWITCH mod_audio_fork: documented sequences in, documented shapes out."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from transport_helpers import best_correlation, chunks, max_step, one_shot, tone

from agent.audio.codecs import l16le_decode, l16le_encode
from agent.transports.audio_fork import AudioForkAdapter
from agent.transports.base import AudioIn, CallStart, DtmfIn, Ignored, MarkEcho, ProtocolError
from agent.transports.freeswitch import FreeswitchAdapter
from agent.transports.jambonz import JambonzAdapter

META = {"sampleRate": 16000, "mixType": "mono", "callSid": "3e5d", "direction": "inbound", "from": "+1555",
        "to": "1234", "callId": "94682bcc", "sipStatus": 200, "callStatus": "in-progress",
        "call_id": "c-1", "token": "t-1", "tenant": "acme"}
ADAPTERS = [JambonzAdapter, FreeswitchAdapter]


def j(obj: object) -> str:
    return json.dumps(obj)


def started(cls: type[AudioForkAdapter] = JambonzAdapter, **meta: object) -> AudioForkAdapter:
    a = cls(headers={}, query={})
    a.on_text(j({**META, **meta}))
    return a


def wire_bytes(messages: list[str | bytes], rate: int) -> bytes:
    out = b""
    for m in messages:
        assert isinstance(m, bytes), "audio must go out as binary frames"
        assert len(m) % (rate * 20 // 1000 * 2) == 0  # whole 20 ms L16 frames
        out += m
    return out


def test_names_and_subprotocols() -> None:
    assert JambonzAdapter.subprotocols == ("audio.jambonz.org",)
    assert "audio.drachtio.org" in FreeswitchAdapter.subprotocols
    assert JambonzAdapter.protocol == "jambonz" and FreeswitchAdapter.protocol == "freeswitch"


@pytest.mark.parametrize("cls", ADAPTERS)
def test_metadata_gives_call_start(cls: type[AudioForkAdapter]) -> None:
    (ev,) = cls(headers={}, query={}).on_text(j(META))
    assert isinstance(ev, CallStart)
    assert (ev.call_id, ev.token, ev.secret, ev.wire_rate) == ("c-1", "t-1", None, 16000)
    assert ev.params["tenant"] == "acme" and ev.params["callSid"] == "3e5d"
    assert ev.params["sipStatus"] == "200"
    assert "token" not in ev.params and ev.params["out_sample_rate"] == "16000"


def test_nested_metadata_query_and_basic_auth() -> None:
    auth = "Basic " + base64.b64encode(b"voice-agent:s3cret").decode()
    a = JambonzAdapter(headers={"authorization": auth}, query={"token": "q-tok"})
    (ev,) = a.on_text(j({"sampleRate": 8000, "metadata": {"call_id": "c-9", "out_sample_rate": 16000}}))
    assert isinstance(ev, CallStart)
    assert (ev.call_id, ev.token, ev.secret, ev.wire_rate) == ("c-9", "q-tok", "s3cret", 8000)
    assert a.out_rate == 16000 and ev.params["auth_user"] == "voice-agent"


def test_bidirectional_object_sets_out_rate() -> None:
    a = started(sampleRate=8000, bidirectionalAudio={"enabled": True, "streaming": True, "sampleRate": 24000})
    assert (a.in_rate, a.out_rate) == (8000, 24000)


def test_freeswitch_accepts_plain_metadata_and_rate_strings() -> None:
    a = FreeswitchAdapter(headers={}, query={"call_id": "c-2", "token": "t-2"})
    (ev,) = a.on_text("caller=alice")
    assert isinstance(ev, CallStart) and ev.call_id == "c-2" and ev.wire_rate == 8000
    assert ev.params["metadata_text"] == "caller=alice"
    assert started(FreeswitchAdapter, sampleRate="16k").in_rate == 16000


@pytest.mark.parametrize("cls", ADAPTERS)
def test_audio_dtmf_marks(cls: type[AudioForkAdapter]) -> None:
    a = started(cls)
    (ev,) = a.on_binary(l16le_encode(tone(seconds=0.02)))
    assert isinstance(ev, AudioIn) and ev.pcm.dtype == np.int16
    assert a.on_text(j({"event": "dtmf", "dtmf": "2", "duration": "1600"})) == [DtmfIn("2")]
    played = j({"type": "mark", "data": {"name": "m1", "event": "playout"}})
    cleared = j({"type": "mark", "data": {"name": "m2", "event": "cleared"}})
    assert a.on_text(played) == [MarkEcho("m1", cleared=False)]
    assert a.on_text(cleared) == [MarkEcho("m2", cleared=True)]
    assert a.on_text(j({"type": "playDone", "data": {"id": "x"}})) == [Ignored("playDone")]
    assert isinstance(a.on_text(j({"type": "somethingNew"}))[0], Ignored)


def test_l16_is_little_endian_both_ways() -> None:
    a = started(sampleRate=16000)
    (ev,) = a.on_binary(b"\x02\x01" * 320)  # 0x0102 = 258 little-endian
    assert set(ev.pcm.tolist()) == {258}  # type: ignore[union-attr]
    out = a.audio(np.full(320, 258, dtype=np.int16))
    assert out == [b"\x02\x01" * 320]  # 16k in, 16k out: no resampler, exact


def test_stereo_takes_the_caller_channel() -> None:
    a = started(sampleRate=16000, mixType="stereo")
    both = np.stack([np.full(320, 1000, np.int16), np.full(320, -7, np.int16)], axis=1).reshape(-1)
    (ev,) = a.on_binary(l16le_encode(both))
    assert set(ev.pcm.tolist()) == {1000}  # type: ignore[union-attr]
    with pytest.raises(ProtocolError):
        a.on_binary(b"\x00" * 6)  # not whole stereo frames


@pytest.mark.parametrize("cls", ADAPTERS)
def test_outbound_shapes(cls: type[AudioForkAdapter]) -> None:
    a = started(cls, sampleRate=8000, out_sample_rate=16000)
    out: list[str | bytes] = []
    for piece in chunks(tone(seconds=0.5)):
        out += a.audio(piece)
    marked = a.mark("utt-1")
    assert json.loads(marked[-1]) == {"type": "mark", "data": {"name": "utt-1"}}  # type: ignore[arg-type]
    assert len(wire_bytes(out + marked[:-1], 16000)) == 16000  # 0.5 s at 16 kHz L16, exactly
    assert [json.loads(m) for m in a.clear()] == [{"type": "killAudio"}]  # type: ignore[arg-type]
    assert [json.loads(m) for m in a.hangup("bye")] == [{"type": "disconnect"}]  # type: ignore[arg-type]
    assert a.accepted("c") == [] and a.notify({}) == []


def test_outbound_rate_follows_bidirectional_rate() -> None:
    a = started(sampleRate=16000, out_sample_rate=8000)
    out = [m for p in chunks(tone(seconds=1.0)) for m in a.audio(p)] + a.mark("m")[:-1]
    assert len(wire_bytes(out, 8000)) == 16000  # 1 s at 8 kHz


@pytest.mark.parametrize(
    "first",
    ["not json", "[]", j({"sampleRate": 11025}), j({"sampleRate": "fast"}), "y" * 70000],
)
def test_bad_metadata(first: str) -> None:
    with pytest.raises(ProtocolError):
        JambonzAdapter().on_text(first)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        j({"event": "dtmf", "dtmf": "Z"}),
        j({"type": "mark", "data": {"name": "m"}}),
        j({"type": "mark", "data": {"name": 1, "event": "playout"}}),
        j({"type": "mark", "data": {"name": "m", "event": "played"}}),
        j({"type": 7}),
        j({"nothing": True}),
    ],
)
@pytest.mark.parametrize("cls", ADAPTERS)
def test_malformed_after_metadata(cls: type[AudioForkAdapter], text: str) -> None:
    with pytest.raises(ProtocolError):
        started(cls).on_text(text)


@pytest.mark.parametrize("cls", ADAPTERS)
def test_binary_rules(cls: type[AudioForkAdapter]) -> None:
    with pytest.raises(ProtocolError):
        cls().on_binary(b"\x00\x00")  # audio before metadata
    a = started(cls)
    with pytest.raises(ProtocolError):
        a.on_binary(b"\x00\x00\x00")  # odd byte count
    with pytest.raises(ProtocolError):
        a.on_binary(b"\x00" * 70000)  # oversize
    with pytest.raises(RuntimeError):
        cls().audio(np.zeros(320, dtype=np.int16))


def test_tone_roundtrip_16k_8k_16k_no_clicks() -> None:
    src = tone(seconds=1.0)
    a = started(sampleRate=8000)
    out = [m for p in chunks(src) for m in a.audio(p)] + a.mark("m")[:-1]
    wire = l16le_decode(wire_bytes(out, 8000))
    ref = one_shot(src, 16000, 8000)
    assert best_correlation(wire, ref, 50) > 0.99
    assert max_step(wire[40:-40]) <= max_step(ref[40:-40]) * 1.1 + 8
    b = started(sampleRate=8000)
    pieces = [b.on_binary(l16le_encode(f))[0] for f in chunks(wire, 160)]
    back = np.concatenate([p.pcm for p in pieces])  # type: ignore[union-attr]
    assert best_correlation(back, src, 2000) > 0.98
