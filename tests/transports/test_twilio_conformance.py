"""Twilio Media Streams: documented sequences in, documented shapes out, audio exactness."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from transport_helpers import best_correlation, chunks, max_step, one_shot, tone

from agent.audio.codecs import ulaw_decode, ulaw_encode
from agent.transports.base import AudioIn, CallStart, DtmfIn, Ignored, MarkEcho, PeerHangup, ProtocolError
from agent.transports.twilio import TwilioAdapter

SID = "MZ18ad3ab5a668481ce02b83e7395059f0"
CONNECTED = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
START = {
    "event": "start", "sequenceNumber": "1", "streamSid": SID,
    "start": {"streamSid": SID, "accountSid": "AC123", "callSid": "CA456", "tracks": ["inbound"],
              "customParameters": {"call_id": "c-1", "token": "t-1", "FirstName": "Jane"},
              "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}},
}
L16_FORMAT = {"encoding": "audio/x-l16", "sampleRate": 16000}


def j(obj: object) -> str:
    return json.dumps(obj)


def media(payload: bytes, seq: int = 2) -> str:
    return j({"event": "media", "sequenceNumber": str(seq), "streamSid": SID,
              "media": {"track": "inbound", "chunk": "1", "timestamp": "5",
                        "payload": base64.b64encode(payload).decode()}})


def started() -> TwilioAdapter:
    a = TwilioAdapter(headers={}, query={})
    assert a.on_text(j(CONNECTED)) == [Ignored("connected")]
    a.on_text(j(START))
    return a


def decode_media(messages: list[str | bytes]) -> bytes:
    out = b""
    for m in messages:
        assert isinstance(m, str)
        msg = json.loads(m)
        if msg["event"] == "media":
            assert set(msg) == {"event", "streamSid", "media"} and msg["streamSid"] == SID
            assert set(msg["media"]) == {"payload"}
            raw = base64.b64decode(msg["media"]["payload"], validate=True)
            assert raw and len(raw) % 160 == 0
            out += raw
    return out


def test_start_gives_call_start_with_credentials_and_params() -> None:
    a = TwilioAdapter(headers={}, query={})
    (ev,) = a.on_text(j(START))
    assert isinstance(ev, CallStart)
    got = (ev.protocol, ev.call_id, ev.token, ev.secret, ev.wire_rate)
    assert got == ("twilio", "c-1", "t-1", None, 8000)
    assert ev.params == {"FirstName": "Jane", "streamSid": SID, "callSid": "CA456", "accountSid": "AC123"}
    assert a.subprotocols == () and a.buffers_audio


def test_start_without_media_format_is_accepted() -> None:
    start = json.loads(j(START))
    del start["start"]["mediaFormat"]
    (ev,) = TwilioAdapter().on_text(j(start))
    assert isinstance(ev, CallStart)


def test_media_dtmf_mark_stop_sequence() -> None:
    a = started()
    (audio,) = a.on_text(media(bytes([0xFF]) * 160 * 10))
    assert isinstance(audio, AudioIn) and audio.pcm.dtype == np.int16
    assert not np.any(ulaw_decode(b"\xff"))  # μ-law 0xFF is digital silence
    assert np.abs(audio.pcm).max() <= 1  # (soxr's int16 output dithers by one LSB)
    assert a.on_text(j({"event": "dtmf", "sequenceNumber": "3", "streamSid": SID,
                        "dtmf": {"track": "inbound_track", "digit": "#"}})) == [DtmfIn("#")]
    assert a.on_text(j({"event": "stop", "sequenceNumber": "4", "streamSid": SID,
                        "stop": {"accountSid": "AC123", "callSid": "CA456"}})) == [PeerHangup("stop")]
    assert isinstance(a.on_text(media(b"\xff" * 160, 5))[0], Ignored)


def test_inbound_audio_length_is_16k() -> None:
    a = started()
    total = sum(len(a.on_text(media(b"\xff" * 160))[0].pcm) for _ in range(50))  # type: ignore[union-attr]
    total += len(a._in._rs.flush())  # type: ignore[union-attr]
    assert total == 16000


def test_outbound_track_media_is_ignored() -> None:
    a = started()
    msg = json.loads(media(b"\xff" * 160))
    msg["media"]["track"] = "outbound"
    assert a.on_text(j(msg)) == [Ignored("media track outbound")]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        j({"no": "event"}),
        j({"event": 5}),
        j({"event": "media", "media": {"payload": ""}}),  # media before start
        j({"event": "start", "start": {"callSid": "CA1"}}),  # no streamSid
        j({"event": "start", "streamSid": SID, "start": "x"}),
        j({**START, "start": {**START["start"], "customParameters": ["a"]}}),  # type: ignore[dict-item]
        j({**START, "start": {**START["start"], "mediaFormat": L16_FORMAT}}),  # type: ignore[dict-item]
        j({**START, "sequenceNumber": "one"}),
        "x" * 70000,
    ],
)
def test_malformed_before_or_at_start(text: str) -> None:
    with pytest.raises(ProtocolError):
        TwilioAdapter().on_text(text)


@pytest.mark.parametrize(
    "msg",
    [
        {"event": "media", "streamSid": SID, "media": {"payload": "!!notbase64"}},
        {"event": "media", "streamSid": SID, "media": {"payload": 5}},
        {"event": "media", "streamSid": SID},
        {"event": "media", "streamSid": "MZother", "media": {"payload": ""}},
        {"event": "dtmf", "streamSid": SID, "dtmf": {"digit": "x"}},
        {"event": "dtmf", "streamSid": SID},
        {"event": "mark", "streamSid": SID, "mark": {"name": 3}},
        {"event": "start", "streamSid": SID, "start": START["start"]},
        {"event": "media", "streamSid": SID, "media": {"payload": base64.b64encode(bytes(20000)).decode()}},
    ],
)
def test_malformed_after_start(msg: dict[str, object]) -> None:
    with pytest.raises(ProtocolError):
        started().on_text(j(msg))


def test_binary_frame_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        started().on_binary(b"\x00\x01")


def test_unknown_well_formed_event_is_ignored() -> None:
    (ev,) = started().on_text(j({"event": "future-thing", "streamSid": SID}))
    assert isinstance(ev, Ignored)


def test_outbound_shapes() -> None:
    a = started()
    out = []
    for piece in chunks(tone(seconds=0.5)):
        out += a.audio(piece)
    assert all(json.loads(m)["event"] == "media" for m in out)  # type: ignore[arg-type]
    marked = a.mark("utt-1")
    expected = {"event": "mark", "streamSid": SID, "mark": {"name": "utt-1"}}
    assert json.loads(marked[-1]) == expected  # type: ignore[arg-type]
    wire = decode_media(out + marked[:-1])
    assert len(wire) == 4000  # 0.5 s at 8 kHz, exactly: nothing lost in the resampler
    assert a.clear() == [j({"event": "clear", "streamSid": SID}).replace(" ", "")]
    assert a.hangup("done") == [] and a.accepted("c-1") == [] and a.notify({"type": "x"}) == []


def test_outbound_silence_is_0xff_within_one_lsb() -> None:
    a = started()
    out = a.audio(np.zeros(3200, dtype=np.int16)) + a.mark("m")[:-1]
    assert set(decode_media(out)) == {0xFF}
    assert ulaw_encode(np.zeros(160, dtype=np.int16)) == b"\xff" * 160


def test_mark_pads_the_last_frame_with_ulaw_silence() -> None:
    a = started()
    wire = decode_media(a.audio(np.zeros(10, dtype=np.int16)) + a.mark("m")[:-1])
    assert len(wire) == 160 and wire[-100:] == b"\xff" * 100


def test_outbound_digital_silence_stays_exactly_0xff() -> None:
    a = started()
    out = a.audio(np.zeros(3200, dtype=np.int16)) + a.mark("m")[:-1]
    assert set(decode_media(out)) == {0xFF}


def test_mark_ledger_played_then_cleared() -> None:
    a = started()
    a.audio(tone(seconds=0.1))
    a.mark("a")
    a.audio(tone(seconds=0.1))
    a.mark("b")
    a.mark("c")

    def echo(name: str) -> str:
        return j({"event": "mark", "sequenceNumber": "9", "streamSid": SID, "mark": {"name": name}})

    assert a.on_text(echo("a")) == [MarkEcho("a", cleared=False)]
    a.clear()
    assert a.on_text(echo("b")) == [MarkEcho("b", cleared=True)]
    assert a.on_text(echo("c")) == [MarkEcho("c", cleared=True)]
    assert isinstance(a.on_text(echo("zzz"))[0], Ignored)
    a.mark("d")
    assert a.on_text(echo("d")) == [MarkEcho("d", cleared=False)]


def test_outbound_before_start_raises() -> None:
    with pytest.raises(RuntimeError):
        TwilioAdapter().audio(np.zeros(320, dtype=np.int16))


def test_tone_roundtrip_keeps_shape_and_has_no_clicks() -> None:
    src = tone(seconds=1.0)
    a = started()
    out: list[str | bytes] = []
    for piece in chunks(src):
        out += a.audio(piece)
    out += a.mark("end")[:-1]
    wire = ulaw_decode(decode_media(out))
    ref = one_shot(src, 16000, 8000)
    assert best_correlation(wire, ref, 50) > 0.99
    assert max_step(wire[40:-40]) <= max_step(ulaw_decode(ulaw_encode(ref))[40:-40]) * 1.1 + 64
    back = TwilioAdapter()
    back.on_text(j(START))
    pcm = np.concatenate([back.on_text(media(chunk))[0].pcm for chunk in  # type: ignore[union-attr]
                          [ulaw_encode(wire)[i : i + 160] for i in range(0, len(wire), 160)]])
    assert best_correlation(pcm, src, 2000) > 0.98
