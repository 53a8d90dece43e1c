"""Hostile text frames are refused with a clear 1003/1009 before anything else reads them (issue 12.5)."""

from __future__ import annotations

import json
import time

import pytest

from agent.transports import ADAPTERS
from agent.transports.base import CallStart, ProtocolError
from agent.transports.native import NativeAdapter
from agent.transports.wire_limits import MAX_DEPTH, check_fields, clip, depth_over, parse_object

DEEP = "[" * 30000 + "]" * 30000  # as deep as fits in one 64 KiB message


def test_depth_is_measured_outside_strings() -> None:
    assert not depth_over('{"a": {"b": [1, 2, {"c": 3}]}}')
    assert depth_over("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert not depth_over(json.dumps({"text": "[" * 500}))  # brackets inside a string do not nest
    assert not depth_over(json.dumps({"a": [[i] for i in range(20)]}))  # wide, not deep
    assert depth_over(DEEP)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (DEEP, 1003),
        (json.dumps({"type": "d" * 32000}), 1009),
        (json.dumps({"k" * 200: 1}), 1009),
        (json.dumps({"a": ["x" * 2000]}), 1009),
        ('{"sample_rate": ' + "9" * 5000 + "}", 1003),  # more digits than int() accepts
        ("[1, 2]", 1003),
        ("{not json", 1003),
        ("x" * 70000, 1009),
    ],
)
def test_parse_object_refuses(text: str, code: int) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_object(text, "test")
    assert refused.value.close_code == code
    assert len(str(refused.value)) < 200  # the reason never repeats the hostile value


def test_long_fields_may_use_the_frame() -> None:
    msg = parse_object(json.dumps({"media": {"payload": "A" * 40000}}), "test")
    assert isinstance(msg["media"], dict)
    with pytest.raises(ProtocolError):
        check_fields({"media": {"track": "A" * 40000}}, "test")


def test_clip() -> None:
    assert clip("start") == "'start'"
    assert len(clip("d" * 32000)) < 80 and "32000 chars" in clip("d" * 32000)
    assert clip(16000.0) == "'16000.0'"


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_a_32000_char_first_message_is_refused_at_once_by_every_adapter(name: str) -> None:
    adapter = ADAPTERS[name](headers={}, query={})
    hostile = json.dumps({"type": "d" * 32000, "event": "d" * 32000})
    started = time.perf_counter()
    with pytest.raises(ProtocolError) as refused:
        adapter.on_text(hostile)
    assert time.perf_counter() - started < 0.5  # generous: it is microseconds; the old path took seconds
    assert refused.value.close_code == 1009 and len(str(refused.value)) < 200


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_deep_nesting_is_refused_cleanly_by_every_adapter(name: str) -> None:
    with pytest.raises(ProtocolError) as refused:  # never RecursionError (which ended in 1011)
        ADAPTERS[name](headers={}, query={}).on_text(DEEP)
    # JSON-first protocols say how deep; FreeSWITCH/Asterisk read a non-'{' first frame as text
    assert refused.value.close_code in (1003, 1008, 1009) and len(str(refused.value)) < 400


@pytest.mark.parametrize("rate", [16000.0, True, "16000.5", 44100, -1, None, [16000]])
def test_native_sample_rate_must_be_a_supported_integer(rate: object) -> None:
    start = {"type": "start", "call_id": "c", "token": "t", "sample_rate": rate}
    with pytest.raises(ProtocolError) as refused:
        NativeAdapter().on_text(json.dumps(start))
    assert refused.value.close_code == 1003 and "sample_rate" in str(refused.value)


def test_native_start_forms() -> None:
    start = {"type": "start", "call_id": "c-1", "secret": "s", "sample_rate": 8000}
    (ev,) = NativeAdapter().on_text(json.dumps(start))
    assert isinstance(ev, CallStart)
    assert (ev.call_id, ev.token, ev.secret, ev.wire_rate) == ("c-1", None, "s", 8000)
    readme_old_form = {"type": "start", "secret": "s", "script": "repayment_reminder", "locale": "en-US",
                       "slots": {"customer_name": "Ann"}}
    with pytest.raises(ProtocolError) as refused:
        NativeAdapter().on_text(json.dumps(readme_old_form))
    assert refused.value.close_code == 1008 and "POST /v1/calls" in str(refused.value)
