"""Asterisk chan_websocket (JSON and plain-text control): documented sequences in, shapes out."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from transport_helpers import best_correlation, chunks, max_step, one_shot, tone

from agent.audio.codecs import alaw_decode, l16le_decode, ulaw_decode
from agent.transports.asterisk import MAX_MESSAGE_BYTES, AsteriskAdapter
from agent.transports.base import AudioIn, CallStart, DtmfIn, FlowControl, Ignored, MarkEcho, ProtocolError

START = {"event": "MEDIA_START", "connection_id": "e226e283", "channel": "WebSocket/e226e283",
         "channel_id": "pbx1-123.999", "format": "ulaw", "optimal_frame_size": 160, "ptime": 20,
         "channel_variables": {"CALL_ID": "c-1", "TOKEN": "t-1", "CAMPAIGN": "may"}}
PLAIN = (
    "MEDIA_START connection_id:e226e283 channel:WebSocket/e226e283 channel_id:pbx1-7.1 "
    "format:slin16 optimal_frame_size:640 ptime:20"
)


def j(obj: object) -> str:
    return json.dumps(obj)


def started(**overrides: object) -> AsteriskAdapter:
    a = AsteriskAdapter(headers={}, query={})
    a.on_text(j({**START, **overrides}))
    return a


def media(messages: list[str | bytes], frame: int) -> bytes:
    out = b""
    for m in messages:
        assert isinstance(m, bytes) and 0 < len(m) <= MAX_MESSAGE_BYTES and len(m) % frame == 0
        out += m
    return out


def test_media_start_json() -> None:
    a = AsteriskAdapter(headers={}, query={})
    (ev,) = a.on_text(j(START))
    assert isinstance(ev, CallStart)
    assert (ev.protocol, ev.call_id, ev.token, ev.wire_rate) == ("asterisk", "c-1", "t-1", 8000)
    assert ev.params["CAMPAIGN"] == "may" and ev.params["channel_id"] == "pbx1-123.999"
    assert "TOKEN" not in ev.params and a.subprotocols == ("media",)
    assert a.accepted("c-1") == [j({"command": "ANSWER"}).replace(" ", "")]


def test_media_start_plain_text_and_query_credentials_that_name_this_channel() -> None:
    auth = "Basic " + base64.b64encode(b"asterisk:s3cret").decode()
    query = {"call_id": "c-7", "token": "t-7", "channel_id": "pbx1-7.1"}
    a = AsteriskAdapter(headers={"authorization": auth}, query=query)
    (ev,) = a.on_text(PLAIN)
    assert isinstance(ev, CallStart)
    assert (ev.call_id, ev.token, ev.secret, ev.wire_rate) == ("c-7", "t-7", "s3cret", 16000)
    assert not a.json_mode
    assert a.on_text("DTMF_END digit:5") == [DtmfIn("5")]
    assert a.accepted("c") == ["ANSWER"] and a.clear() == ["FLUSH_MEDIA"] and a.hangup("x") == ["HANGUP"]
    assert a.mark("utt-1")[-1] == "MARK_MEDIA utt-1"
    assert a.on_text("MEDIA_MARK_PROCESSED correlation_id:utt-1") == [MarkEcho("utt-1", cleared=False)]


@pytest.mark.parametrize("query", [
    {"call_id": "c-7", "token": "t-7"},  # v() params Asterisk may have kept from an earlier call
    {"call_id": "c-7", "token": "t-7", "channel_id": "pbx1-6.1"},  # written for another channel
    {},
])
def test_plain_text_query_credentials_not_proven_for_this_channel_are_refused(query: dict[str, str]) -> None:
    with pytest.raises(ProtocolError) as refused:
        AsteriskAdapter(query=query).on_text(PLAIN)
    assert refused.value.close_code == 1008 and "f(json)" in str(refused.value)


@pytest.mark.parametrize("names", [
    ("CALL_ID", "TOKEN"),  # set on the WebSocket channel itself (ARI variables)
    ("_CALL_ID", "_TOKEN"),  # as some builds report a once-inherited variable
    ("__CALL_ID", "__TOKEN"),  # Set(__CALL_ID=...): inherited forever, arrives with its underscores
    ("call_id", "Token"),
])
def test_channel_variables_with_or_without_inheritance_underscores(names: tuple[str, str]) -> None:
    variables = {names[0]: "c-9", names[1]: "t-9", "__CAMPAIGN": "june"}
    a = AsteriskAdapter()
    (ev,) = a.on_text(j({**START, "channel_variables": variables}))
    assert isinstance(ev, CallStart) and (ev.call_id, ev.token) == ("c-9", "t-9")
    assert ev.params["CAMPAIGN"] == "june"
    assert not any(k.lstrip("_").lower() in ("call_id", "token") for k in ev.params)


def test_channel_variables_that_disagree_are_refused() -> None:
    for variables in ({"CALL_ID": "c-1", "__CALL_ID": "c-2"}, {"CALL_ID": "c-1", "call_id": "c-2"}):
        with pytest.raises(ProtocolError) as refused:
            AsteriskAdapter().on_text(j({**START, "channel_variables": {**variables, "TOKEN": "t"}}))
        assert refused.value.close_code == 1008


def test_json_mode_takes_credentials_only_from_the_channel_never_from_a_stale_query() -> None:
    """Two consecutive calls on one websocket_client: Asterisk sends the first call's v() query again."""
    stale = {"call_id": "c-first", "token": "t-first"}
    second = AsteriskAdapter(query=stale)
    own = {"__CALL_ID": "c-second", "__TOKEN": "t-second"}
    (ev,) = second.on_text(j({**START, "channel_variables": own}))
    assert isinstance(ev, CallStart) and (ev.call_id, ev.token) == ("c-second", "t-second")
    third = AsteriskAdapter(query=stale)  # a call whose dialplan set no variables: refused, never c-first
    with pytest.raises(ProtocolError) as refused:
        third.on_text(j({**START, "channel_variables": {"CAMPAIGN": "june"}}))
    assert refused.value.close_code == 1008
    assert "_CALL_ID" in str(refused.value) and "ignored" in str(refused.value)


@pytest.mark.parametrize(
    ("fmt", "size", "rate"),
    [("ulaw", 160, 8000), ("alaw", 160, 8000), ("slin", 320, 8000), ("slin16", 640, 16000)],
)
def test_formats(fmt: str, size: int, rate: int) -> None:
    a = AsteriskAdapter()
    (ev,) = a.on_text(j({**START, "format": fmt, "optimal_frame_size": size}))
    assert isinstance(ev, CallStart) and ev.wire_rate == rate
    (audio,) = a.on_binary(b"\x00" * size)
    assert isinstance(audio, AudioIn)
    out = [m for p in chunks(tone(seconds=0.5)) for m in a.audio(p)] + a.mark("m")[:-1]
    assert len(media(out, size)) == size * 25  # 0.5 s = 25 frames, exactly


def test_events() -> None:
    a = started()
    assert a.on_text(j({"event": "DTMF_END", "channel_id": "x", "digit": "#"})) == [DtmfIn("#")]
    assert a.on_text(j({"event": "MEDIA_XOFF"})) == [FlowControl(paused=True)]
    assert a.on_text(j({"event": "MEDIA_XON"})) == [FlowControl(paused=False)]
    for name in ("STATUS", "QUEUE_DRAINED", "MEDIA_BUFFERING_COMPLETED", "DTMF_BEGIN"):
        assert a.on_text(j({"event": name})) == [Ignored(name)]
    (unknown,) = a.on_text(j({"event": "SOMETHING_NEW"}))
    assert unknown == Ignored("unknown event", anomaly=True, detail="'SOMETHING_NEW'")
    (error,) = a.on_text(j({"event": "ERROR", "error_text": "bad command"}))
    assert isinstance(error, Ignored) and error.anomaly and "bad command" in error.detail


def test_marks_processed_and_flush_resolves_older_marks_as_cleared() -> None:
    a = started()
    a.audio(tone(seconds=0.1))
    cmd = json.loads(a.mark("a")[-1])  # type: ignore[arg-type]
    assert cmd == {"command": "MARK_MEDIA", "correlation_id": "a"}
    a.mark("b")
    a.mark("c")
    echo = j({"event": "MEDIA_MARK_PROCESSED", "correlation_id": "a"})
    assert a.on_text(echo) == [MarkEcho("a", cleared=False)]
    assert a.clear() == [j({"command": "FLUSH_MEDIA"}).replace(" ", "")]
    events = a.on_binary(b"\xff" * 160)
    assert events[:2] == [MarkEcho("b", cleared=True), MarkEcho("c", cleared=True)]
    assert isinstance(events[2], AudioIn)
    assert isinstance(a.on_text(j({"event": "MEDIA_MARK_PROCESSED", "correlation_id": "b"}))[0], Ignored)
    assert a.on_binary(b"\xff" * 160)[0].__class__ is AudioIn  # reported once only


def test_unsafe_mark_names_get_correlation_ids() -> None:
    a = started()
    cmd = json.loads(a.mark("utt 1 / ünï")[-1])  # type: ignore[arg-type]
    assert cmd["command"] == "MARK_MEDIA" and cmd["correlation_id"] == "m1"
    echo = j({"event": "MEDIA_MARK_PROCESSED", "correlation_id": "m1"})
    assert a.on_text(echo) == [MarkEcho("utt 1 / ünï", cleared=False)]


def test_big_bursts_split_below_65500_in_whole_frames() -> None:
    a = started(format="slin16", optimal_frame_size=640)
    out = a.audio(tone(seconds=5.0))
    assert len(out) >= 3
    total = len(media(out, 640)) + len(media(a.mark("m")[:-1], 640))
    assert total == 5 * 16000 * 2


def test_commands_are_spelled_exactly() -> None:
    a = started()
    sent = a.accepted("c") + a.clear() + a.hangup("x") + a.mark("z")[-1:]
    cmds = {json.loads(m)["command"] for m in sent}  # type: ignore[arg-type]
    assert cmds == {"ANSWER", "FLUSH_MEDIA", "HANGUP", "MARK_MEDIA"}


@pytest.mark.parametrize(
    "first",
    [
        "",
        "{not json",
        j({"event": "DTMF_END", "digit": "1"}),
        j({**START, "format": "opus"}),
        j({k: v for k, v in START.items() if k != "format"}),
        j({**START, "optimal_frame_size": 0}),
        j({**START, "optimal_frame_size": 321, "format": "slin"}),
        j({**START, "optimal_frame_size": "big"}),
        j({**START, "optimal_frame_size": 2, "format": "slin16"}),  # 1 sample: hundreds of messages a second
        j({**START, "optimal_frame_size": 40}),  # 5 ms of ulaw
        j({**START, "optimal_frame_size": 1600}),  # 200 ms of ulaw
        j({**START, "optimal_frame_size": 160.0}),
        j({**START, "optimal_frame_size": "9" * 5000}),
        j({**START, "format": "d" * 32000}),
        j({**START, "channel_variables": ["x"]}),
        "HELLO there",
    ],
)
def test_bad_media_start(first: str) -> None:
    with pytest.raises(ProtocolError) as refused:
        AsteriskAdapter().on_text(first)
    assert len(str(refused.value)) < 400  # hostile values are clipped in the reason


@pytest.mark.parametrize(("fmt", "size"), [("ulaw", 80), ("ulaw", 1200), ("slin16", 320), ("slin16", 4800)])
def test_frame_sizes_from_10_to_150_ms_are_accepted(fmt: str, size: int) -> None:
    a = started(format=fmt, optimal_frame_size=size)
    assert a.frame_bytes == size


@pytest.mark.parametrize(
    "text",
    [
        j({"event": "DTMF_END", "digit": "x"}),
        j({"event": "MEDIA_MARK_PROCESSED"}),
        j({"event": 1}),
        j(START),
        "[]",
    ],
)
def test_malformed_after_start(text: str) -> None:
    with pytest.raises(ProtocolError):
        started().on_text(text)


def test_binary_rules() -> None:
    with pytest.raises(ProtocolError):
        AsteriskAdapter().on_binary(b"\xff" * 160)
    slin = started(format="slin", optimal_frame_size=320)
    with pytest.raises(ProtocolError):
        slin.on_binary(b"\x00" * 321)
    with pytest.raises(ProtocolError):
        slin.on_binary(b"\x00" * 70000)


def test_tone_roundtrip_and_silence() -> None:
    src = tone(seconds=1.0)
    for fmt, decode in (("ulaw", ulaw_decode), ("alaw", alaw_decode), ("slin", l16le_decode)):
        size = 320 if fmt == "slin" else 160
        a = started(format=fmt, optimal_frame_size=size)
        wire = decode(media([m for p in chunks(src) for m in a.audio(p)] + a.mark("m")[:-1], size))
        ref = one_shot(src, 16000, 8000)
        assert best_correlation(wire, ref, 50) > 0.99, fmt
        assert max_step(wire[40:-40]) <= max_step(ref[40:-40]) * 1.15 + 64, fmt
        b = started(format=fmt, optimal_frame_size=size)
        raw = media([m for p in chunks(src) for m in a.audio(p)], size)
        pieces = [b.on_binary(raw[i : i + size])[-1] for i in range(0, len(raw), size)]
        back = np.concatenate([p.pcm for p in pieces])  # type: ignore[union-attr]
        assert best_correlation(back, src, 2000) > 0.98, fmt
