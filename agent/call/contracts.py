"""What a call session is given and gives back: its setup, its result, its ports, its texts.

Kept apart from `session.py` so the transports, the runtime and tests can name these
without reading the orchestration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from agent.call.ports import CallOutput, Nlu
from agent.nlu.intents import Intent

if TYPE_CHECKING:
    from agent.dialogue.script import Script

__all__ = [
    "OPT_OUT_INTENTS", "SAFE_CLOSE", "SCREEN_PARAM", "STORE_DOWN_CLOSE", "CallOutput", "CallResult",
    "CallSetup", "Nlu", "screens_answer",
]

SCREEN_PARAM = "va_screen"  # a media start parameter "1": an outbound campaign call, screen who answered


def screens_answer(params: Mapping[str, str]) -> bool:
    """True when the gateway's start parameters mark the call for answer screening (SCREEN_PARAM=1)."""
    return any(k.lower() == SCREEN_PARAM and str(v).strip() == "1" for k, v in params.items())

# a turn with one of these is never dropped as overlap: an opt-out (or a complaint) said over the agent acts
OPT_OUT_INTENTS: frozenset[str] = frozenset({Intent.OPT_OUT, Intent.COMPLAINT})
STORE_DOWN_CLOSE = {  # said when the store fails mid-call; promises nothing it cannot record
    "en-US": "I'm sorry, I have to end this call now because of a technical problem. Goodbye.",
    "zh-CN": "抱歉，由于技术问题，本次通话需要结束了，再见。",
}
SAFE_CLOSE = {  # said instead of an utterance the guard refused; itself free of any detail
    "en-US": "I'm sorry, I have to end this call now. Goodbye.",
    "zh-CN": "抱歉，本次通话需要结束了，再见。",
}


@dataclass(frozen=True, slots=True)
class CallSetup:
    """Everything known about the call when it starts."""

    call_id: str
    locale: str
    script: Script
    slots: Mapping[str, str]
    today: date
    protocol: str = "native"
    script_hash: str = ""  # sha256 of the approved script text the call runs (agent/dialogue/approval.py)
    jurisdiction: str = ""  # the gate's profile for the call (CN, US): what to do with a voicemail
    screen: bool = False  # classify who answered (person, machine, carrier) before the first word
    fixed_slots: frozenset[str] = frozenset()  # slots valued as dialogue.constant_slots says

    def describe(self) -> dict[str, str]:
        """What the audit records when the call starts (with the script's content hash, SPEC 13)."""
        meta = self.script.meta
        return {"script": meta.id, "version": meta.version, "script_hash": self.script_hash,
                "locale": self.locale, "protocol": self.protocol}


@dataclass(slots=True)
class CallResult:
    """How the call ended and what it measured."""

    call_id: str
    outcome: str = "hangup"
    turns: list[dict[str, Any]] = field(default_factory=list)
    voice_to_voice_ms: list[int] = field(default_factory=list)
    barge_ins: int = 0
    underruns: int = 0
    opt_out_persist_ms: list[int] = field(default_factory=list)
    turn_gaps_ms: list[int] = field(default_factory=list)  # longest silence inside each agent turn
    first_audio_ms: int | None = None  # session start -> its first agent audio frame sent

    def add_turn(self, speaker: str, text: str, intent: str | None, start_ms: int, **extra: str) -> None:
        """Keep one turn of the transcript (agent turns also carry say_id and state)."""
        self.turns.append({"speaker": speaker, "text": text, "intent": intent, "start_ms": start_ms, **extra})

    def timings(self, duration_ms: int) -> dict[str, Any]:
        """What the store keeps of the call's measurements."""
        return {
            "voice_to_voice_ms": self.voice_to_voice_ms,
            "barge_ins": self.barge_ins,
            "underruns": self.underruns,
            "longest_turn_gap_ms": max(self.turn_gaps_ms, default=0),
            "first_audio_ms": self.first_audio_ms,
            "duration_ms": duration_ms,
        }
