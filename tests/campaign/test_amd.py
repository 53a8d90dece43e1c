"""Answering-machine and carrier-intercept classification in the first seconds after answer."""

from __future__ import annotations

import numpy as np
import pytest

from agent.audio.codecs import ulaw_decode, ulaw_encode
from agent.audio.resample import resample
from agent.campaign.amd import (
    AmdConfig,
    Screen,
    _tone_power,
    classify,
    find_beep,
    goertzel_power,
    match_words,
    tone_frames,
)
from agent.campaign.model import Result

RATE = 8000


def frames(*runs: tuple[bool, float]) -> list[bool]:
    out: list[bool] = []
    for speech, seconds in runs:
        out += [speech] * round(seconds / 0.02)
    return out


@pytest.mark.parametrize(
    ("text", "kind", "result"),
    [
        ("您拨打的电话已关机", "carrier", Result.carrier),
        ("您拨打的电话暂时无法接通，请稍后再拨", "carrier", Result.carrier),
        ("您拨打的号码是空号，请查证后再拨", "carrier", Result.not_in_service),
        ("您拨打的电话正在通话中，请稍后再拨", "carrier", Result.busy),
        ("您拨打的用户暂时无法接听", "carrier", Result.carrier),
        ("The number you have dialed is not in service. Please check the number and try again.",
         "carrier", Result.not_in_service),
        ("We're sorry, the number you have dialed has been disconnected", "carrier", Result.not_in_service),
        ("The wireless customer you are calling is not available", "carrier", Result.carrier),
        ("Hi, you've reached Sam. Please leave a message after the tone.", "voicemail", Result.voicemail),
        ("I can't come to the phone right now", "voicemail", Result.voicemail),
        ("您好，我现在不方便接听，请在提示音后留言", "voicemail", Result.voicemail),
    ],
)
def test_words(text: str, kind: str, result: Result) -> None:
    verdict = match_words(text)
    assert verdict is not None and verdict.kind == kind and verdict.result == result


@pytest.mark.parametrize("text", ["Hello?", "喂，你好", "yes, who is this", "", "I'm not sure I can pay"])
def test_words_of_a_person_decide_nothing(text: str) -> None:
    assert match_words(text) is None


def test_short_hello_then_waiting_is_live() -> None:
    v = classify(frames((False, 0.4), (True, 0.6), (False, 0.9)))
    assert v.kind == "live"


def test_long_greeting_is_voicemail() -> None:
    v = classify(frames((False, 0.3), (True, 1.0), (False, 0.15), (True, 1.2)))
    assert v.kind == "voicemail" and v.result == Result.voicemail


def test_undecided_then_unknown() -> None:
    assert classify(frames((False, 1.0))).kind == "pending"
    assert classify(frames((True, 0.5), (False, 0.3))).kind == "pending"
    assert classify(frames((False, 4.0))).kind == "unknown"
    assert classify(frames((False, 3.0), (True, 0.3), (False, 0.7)), config=AmdConfig()).kind == "unknown"


def test_words_win_over_cadence() -> None:
    v = classify(frames((True, 0.5), (False, 1.0)), words="您拨打的电话已关机")
    assert v.kind == "carrier"


def tone(hz: float, seconds: float, amp: float = 8000.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_goertzel_matches_the_vectorised_dft() -> None:
    frame = tone(1000.0, 0.02).astype(np.float64)
    ref = goertzel_power(frame, RATE, 1000.0)
    assert _tone_power(frame[None, :], RATE, 1000.0)[0] == pytest.approx(ref, rel=1e-6)


def test_beep_found_in_speech_like_noise() -> None:
    rng = np.random.default_rng(1)
    noise = (rng.normal(0, 2000, RATE)).astype(np.int16)
    audio = np.concatenate([noise, tone(1000.0, 0.4), np.zeros(RATE // 2, dtype=np.int16)])
    start = find_beep(audio, RATE)
    assert start is not None and 0.95 <= start <= 1.05
    assert find_beep(noise, RATE) is None
    assert find_beep(tone(440.0, 3.0), RATE) is None  # a steady tone this long is no beep
    assert classify(frames((True, 0.5)), beep_at_s=1.0).kind == "voicemail"


def test_off_frequency_beep_and_silence() -> None:
    assert set(tone_frames(tone(1015.0, 0.2), RATE)) == {1000.0}
    assert tone_frames(np.zeros(800, dtype=np.int16), RATE) == [None] * 5


def _screen_audio(pcm16k: np.ndarray) -> Screen:
    screen = Screen()
    for i in range(0, len(pcm16k) - 319, 320):  # the session's 20 ms frames at 16 kHz
        tones = tone_frames(pcm16k[i:i + 320], 16000)
        screen.frame(False, tones[0] if tones else None)
    return screen


def test_a_beep_through_an_8khz_ulaw_line_is_found_frame_by_frame() -> None:
    rng = np.random.default_rng(3)
    speech_like = rng.normal(0, 2500, RATE).astype(np.int16)
    line = np.concatenate([speech_like, tone(1000.0, 0.4), np.zeros(RATE // 4, dtype=np.int16)])
    heard = resample(ulaw_decode(ulaw_encode(line)), RATE, 16000)  # what the session gets from Twilio
    screen = _screen_audio(heard)
    beep = screen.beep()
    assert beep is not None and 0.95 <= beep[0] <= 1.05 and 1.3 <= beep[1] <= 1.45
    assert screen.verdict().kind == "voicemail"


def test_a_tone_still_sounding_or_too_long_is_no_beep_yet() -> None:
    assert _screen_audio(resample(tone(1000.0, 0.4), RATE, 16000)).beep() is None  # may go on
    long_tone = np.concatenate([tone(440.0, 2.0), np.zeros(RATE // 4, dtype=np.int16)])
    assert _screen_audio(resample(long_tone, RATE, 16000)).beep() is None  # a dial tone, not a beep


def test_screen_words_keep_final_turns_and_the_running_one() -> None:
    screen = Screen()
    screen.heard("you've", final=False)
    screen.heard("you've reached", final=False)
    assert screen.words == "you've reached"
    screen.heard("you've reached Sam", final=True)
    screen.heard("please leave", final=False)
    assert screen.words == "you've reached Sam please leave"
    assert screen.verdict().kind == "voicemail"
