"""Who answered? A live person, a voicemail greeting, or a carrier announcement (SPEC 12). Pure.

Called on the first seconds after answer with three kinds of evidence the call already has:
the VAD's speech/silence pattern (one flag per 20 ms frame), the audio (for a beep), and the
ASR words so far. The order of trust:

1. words: a carrier announcement (zh "您拨打的电话已关机 / 暂时无法接通 / 是空号 / 正在通话中 /
   暂时无法接听", en "the number you have dialed is not in service ...") or a voicemail
   greeting ("please leave a message after the tone", "请在提示音后留言") decides at once;
2. a beep (a steady single tone of 120 ms to 1.5 s at a typical voicemail frequency, found
   with the Goertzel algorithm) means voicemail;
3. the cadence, as in Asterisk's AMD(): a person says a short "hello?" (at most
   `greeting_max_s`) and then waits (`after_greeting_s` of silence); a machine talks on.

Undecided evidence gives `pending` while there is time left and `unknown` after
`analysis_s`; the session treats `unknown` as a live person (never hang up on a person).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from agent.campaign.model import Result

FRAME_S = 0.02
BEEP_HZ = (425.0, 440.0, 480.0, 800.0, 850.0, 950.0, 1000.0, 1400.0, 2000.0)

# (pattern, result) in order; the first match wins. zh carrier texts are China Mobile /
# Unicom / Telecom's standard intercepts; en texts are the US/UK carriers' usual wording.
CARRIER_PHRASES: tuple[tuple[str, Result], ...] = (
    (r"空号|不存在|号码有误|已停机|停机", Result.not_in_service),
    (r"正在通话中|通话中|占线", Result.busy),
    (r"已关机|关机", Result.carrier),
    (r"无法接通|不在服务区|暂时无法接听|无人接听|请稍后再拨|稍后再拨", Result.carrier),
    (r"(number|call) you (have )?(dialed|dialled|called|are calling|reached) (is|has been) "
     r"(not in service|no longer in service|disconnected|not a working number)", Result.not_in_service),
    (r"not in service|no longer in service|has been disconnected|not a working number|"
     r"cannot be completed as dialed|is not a valid number", Result.not_in_service),
    (r"(line|number|person) (you are calling |you have dialed )?is busy|all circuits are busy", Result.busy),
    (r"(subscriber|customer|person|party|mobile|number|wireless customer) you (have )?"
     r"(dialed|dialled|called|are calling) (is|cannot be|can ?not be) (not available|unavailable|"
     r"switched off|turned off|reached|not reachable)", Result.carrier),
    (r"is switched off|is turned off|not reachable|out of (the )?(coverage|service) area|"
     r"please try (again )?later", Result.carrier),
)
VOICEMAIL_PHRASES: tuple[str, ...] = (
    r"leave (me |us )?(a |your )?(message|name and number)",
    r"after the (tone|beep)",
    r"at the (tone|beep)",
    r"voice ?mail|mailbox|answering machine",
    r"(can'?t|cannot|unable to) (come to|take|answer) (the phone|your call)",
    r"not available (right now|to take your call|at the moment)",
    r"record your message",
    r"you('ve| have) reached",
    r"留言|语音信箱|提示音后|哔声后|嘀声后|录音|不方便接听",
)
_CARRIER = tuple((re.compile(p, re.I), r) for p, r in CARRIER_PHRASES)
_VOICEMAIL = tuple(re.compile(p, re.I) for p in VOICEMAIL_PHRASES)


@dataclass(frozen=True, slots=True)
class AmdConfig:
    """Thresholds (seconds), defaults close to Asterisk's amd.conf."""

    greeting_max_s: float = 1.5  # a person's greeting is shorter than this
    after_greeting_s: float = 0.8  # silence after a short greeting that says "a person, waiting"
    initial_silence_s: float = 2.5  # no speech at all this long: undecided (the session goes on)
    analysis_s: float = 4.0  # after this, undecided evidence is `unknown`
    word_gap_s: float = 0.3  # a pause shorter than this stays inside one utterance
    message_gap_s: float = 1.5  # a voicemail greeting this quiet is over: the message may start
    message_wait_s: float = 20.0  # the longest wait for a greeting's end before the message anyway


@dataclass(frozen=True, slots=True)
class Verdict:
    """`kind`: live | voicemail | carrier | pending | unknown; `result` names the attempt's end."""

    kind: str
    reason: str
    result: Result | None = None  # voicemail / carrier / busy / not_in_service for a machine


def match_words(text: str) -> Verdict | None:
    """A verdict from the ASR words alone (carrier intercepts first), or None."""
    norm = re.sub(r"\s+", " ", text.strip().lower().replace("’", "'"))
    if not norm:
        return None
    for pattern, result in _CARRIER:
        if pattern.search(norm):
            return Verdict("carrier", f"words: {pattern.pattern[:40]}", result)
    for vm in _VOICEMAIL:
        if vm.search(norm):
            return Verdict("voicemail", f"words: {vm.pattern[:40]}", Result.voicemail)
    return None


def goertzel_power(frame: NDArray[np.float64], rate: int, hz: float) -> float:
    """|X(hz)|^2 of one frame by the Goertzel recurrence (the reference for `_tone_power`)."""
    w = 2.0 * np.pi * hz / rate
    coeff = 2.0 * np.cos(w)
    s1 = s2 = 0.0
    for x in frame:
        s1, s2 = float(x) + coeff * s1 - s2, s1
    return float(s1 * s1 + s2 * s2 - coeff * s1 * s2)


def _tone_power(frames: NDArray[np.float64], rate: int, hz: float) -> NDArray[np.float64]:
    """What `goertzel_power` gives, for many frames at once (one DFT term at exactly `hz`)."""
    n = frames.shape[1]
    basis = np.exp(-2j * np.pi * hz / rate * np.arange(n))
    power: NDArray[np.float64] = np.abs(frames @ basis) ** 2
    return power


def tone_frames(
    pcm: NDArray[np.int16], rate: int, ratio: float = 0.5, floor: float = 300.0
) -> list[float | None]:
    """Per 20 ms frame: the beep frequency (within 25 Hz) holding most of its energy, or None."""
    n = int(rate * FRAME_S)
    count = len(pcm) // n
    if count == 0:
        return []
    frames = np.asarray(pcm[: count * n], dtype=np.float64).reshape(count, n)
    energy = (frames * frames).sum(axis=1)
    loud = np.sqrt(energy / n) >= floor
    best = np.zeros(count)
    best_hz = np.zeros(count)
    for hz in BEEP_HZ:
        power = np.max([_tone_power(frames, rate, hz + d) for d in (-25.0, 0.0, 25.0)], axis=0)
        share = power / (np.maximum(energy, 1e-9) * n / 2.0)  # a pure tone at hz gives ~1
        better = share > best
        best = np.where(better, share, best)
        best_hz = np.where(better, hz, best_hz)
    return [float(best_hz[i]) if loud[i] and best[i] >= ratio else None for i in range(count)]


def find_beep(pcm: NDArray[np.int16], rate: int, min_s: float = 0.12, max_s: float = 1.5) -> float | None:
    """Start time (s) of the first steady tone lasting min_s..max_s, or None."""
    found = beep_in(tone_frames(pcm, rate), min_s, max_s)
    return found[0] if found is not None else None


def beep_in(
    tones: Sequence[float | None], min_s: float = 0.12, max_s: float = 1.5, *, open_end: bool = True
) -> tuple[float, float] | None:
    """(start, end) in seconds of the first steady tone of min_s..max_s in per-frame tones.

    `open_end=False`: a tone still sounding in the last frame does not count yet (it may go on
    past `max_s`: a dial tone or a hum, not a beep).
    """
    run_hz: float | None = None
    run_start = 0
    for i, hz in enumerate([*tones, None]):
        if hz is not None and hz == run_hz:
            continue
        if run_hz is not None:
            length = (i - run_start) * FRAME_S
            if min_s <= length <= max_s and (open_end or i < len(tones)):
                return run_start * FRAME_S, i * FRAME_S
        run_hz, run_start = hz, i
    return None


def _segments(vad: Sequence[bool], gap_frames: int) -> list[tuple[int, int]]:
    """Speech runs [start, end) in frames, joining runs separated by less than gap_frames of silence."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for i, speech in enumerate([*vad, False]):
        if speech and start is None:
            start = i
        elif not speech and start is not None:
            runs.append((start, i))
            start = None
    merged: list[tuple[int, int]] = []
    for s, e in runs:
        if merged and s - merged[-1][1] < gap_frames:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def classify(
    vad: Sequence[bool],
    words: str = "",
    beep_at_s: float | None = None,
    config: AmdConfig = AmdConfig(),
) -> Verdict:
    """Classify the first seconds after answer; `vad` has one flag per 20 ms frame since answer."""
    by_words = match_words(words)
    if by_words is not None:
        return by_words
    if beep_at_s is not None:
        return Verdict("voicemail", f"beep at {beep_at_s:.2f} s", Result.voicemail)
    elapsed = len(vad) * FRAME_S
    segments = _segments(vad, max(1, round(config.word_gap_s / FRAME_S)))
    if not segments:
        if elapsed >= config.analysis_s:
            return Verdict("unknown", f"no speech in {elapsed:.1f} s")
        return Verdict("pending", "no speech yet")
    s, e = segments[0]
    greeting = (e - s) * FRAME_S
    if greeting > config.greeting_max_s:
        reason = f"greeting of {greeting:.1f} s > {config.greeting_max_s} s"
        return Verdict("voicemail", reason, Result.voicemail)
    if s * FRAME_S >= config.initial_silence_s and elapsed >= config.analysis_s:
        return Verdict("unknown", f"{s * FRAME_S:.1f} s of silence before speech")
    after = (segments[1][0] if len(segments) > 1 else len(vad)) - e
    if after * FRAME_S >= config.after_greeting_s:
        return Verdict("live", f"greeting of {greeting:.1f} s, then {after * FRAME_S:.1f} s of silence")
    if len(segments) > 1:
        spoken = sum((b - a) for a, b in segments) * FRAME_S
        if spoken > config.greeting_max_s:
            return Verdict("voicemail", f"{spoken:.1f} s of speech with no pause", Result.voicemail)
    if elapsed >= config.analysis_s:
        return Verdict("unknown", "no clear cadence")
    return Verdict("pending", "greeting still open")


class Screen:
    """One call's evidence from answer on, frame by frame; pure (the session feeds it, the policy asks).

    `frame` takes the VAD flag and the beep tone (`tone_frames` of that frame) of each 20 ms
    frame since answer; `heard` takes transcripts (running ones replace each other until the
    turn is final). `verdict` classifies what is known so far. After a voicemail verdict
    `message_ready` says when the greeting is over (its beep has ended, or it went quiet) so a
    message is recorded whole.
    """

    def __init__(self, config: AmdConfig = AmdConfig()) -> None:
        self.config = config
        self.flags: list[bool] = []
        self.tones: list[float | None] = []
        self._final: list[str] = []
        self._running = ""

    @property
    def elapsed_ms(self) -> int:
        """Stream time covered so far (the listener's clock: one frame is 20 ms)."""
        return round(len(self.flags) * FRAME_S * 1000)

    @property
    def words(self) -> str:
        """Everything recognised so far, finished turns first."""
        return " ".join(t for t in (*self._final, self._running) if t)

    def frame(self, speech: bool, tone_hz: float | None) -> None:
        """One 20 ms frame: whether the VAD heard speech, and the beep frequency it holds (or None)."""
        self.flags.append(speech)
        self.tones.append(tone_hz)

    def heard(self, text: str, *, final: bool) -> None:
        """A transcript: a running one replaces the previous running one; a final one is kept."""
        if final:
            if text.strip():
                self._final.append(text.strip())
            self._running = ""
        else:
            self._running = text.strip()

    def beep(self) -> tuple[float, float] | None:
        """(start, end) seconds of the first beep heard, if any."""
        return beep_in(self.tones, open_end=False)

    def verdict(self) -> Verdict:
        """What answered, as far as the evidence so far tells (`pending` while it cannot tell yet)."""
        beep = self.beep()
        return classify(self.flags, self.words, beep[0] if beep else None, self.config)

    def message_ready(self) -> bool:
        """The machine's greeting is over: a beep has ended, or `message_gap_s` of silence after speech."""
        if self.beep() is not None:
            return True
        gap = round(self.config.message_gap_s / FRAME_S)
        spoke = any(self.flags)
        return spoke and len(self.flags) >= gap and not any(self.flags[-gap:])
