"""Answer screening in the pure CallPolicy: fake evidence in (frames, words, keys, timers), commands out."""

from __future__ import annotations

import pytest

from agent.asr.base import Transcript
from agent.call import commands as c
from agent.call.contracts import CallSetup
from agent.call.policy import HANGUP_SCREENING, MESSAGE, SCREEN, CallPolicy
from agent.call.signals import AnswerFrame, HeardTurn, Partial, TimerFired
from agent.config import CallConfig
from agent.dialogue.events import KeyPress
from agent.testing.harness import SLOTS, TODAY, script_for


def policy(locale: str = "en-US", jurisdiction: str = "US") -> CallPolicy:
    setup = CallSetup("c1", locale, script_for("repayment_reminder", locale), SLOTS[locale], TODAY,
                      jurisdiction=jurisdiction, screen=True)
    return CallPolicy(setup, CallConfig())


def feed(p: CallPolicy, *runs: tuple[bool, float], tone: float | None = None) -> list[c.Command]:
    """Frames of speech (True) or silence for so many seconds; the commands they gave."""
    out: list[c.Command] = []
    for speech, seconds in runs:
        for _ in range(round(seconds / 0.02)):
            out += p.on(AnswerFrame(speech, tone))
    return out


def says(commands: list[c.Command]) -> list[str]:
    return [x.say.say_id for x in commands if isinstance(x, c.Speak)]


def ends(commands: list[c.Command]) -> list[str]:
    return [x.outcome for x in commands if isinstance(x, c.End)]


def verdicts(commands: list[c.Command]) -> list[str]:
    return [x.data["kind"] for x in commands if isinstance(x, c.RecordEvent) and x.kind == "answered_by"]


def turn(text: str, onset_ms: int = 300, ms: int = 500) -> HeardTurn:
    return HeardTurn(Transcript(text, "en", 0.9, ms, 50), onset_ms, onset_ms + ms, 1.0, 1.3, 1.35,
                     False, False, False)


def test_the_opening_is_held_and_prefetched_while_screening() -> None:
    p = policy()
    out = p.start()
    assert says(out) == [] and p.screening
    timers = {x.name for x in out if isinstance(x, c.StartTimer)}
    assert timers == {"max_call", SCREEN}  # no no-input timer: nobody is expected to answer the agent yet
    prefetch = next(x for x in out if isinstance(x, c.Prefetch))
    assert any("automated AI assistant" in t for t in prefetch.texts)


def test_a_short_hello_then_a_pause_gets_the_opening() -> None:
    p = policy()
    p.start()
    before = feed(p, (False, 0.3), (True, 0.5), (False, 0.7))
    assert says(before) == []  # still within the pause: nothing said
    out = feed(p, (False, 0.2))
    assert verdicts(out) == ["live"]
    assert says(out) == ["opening.disclosure.0", "opening.disclosure.1", "opening.say.0"]
    assert not p.screening
    assert p.screens(turn("Hello?"))  # the greeting's own turn is evidence, not an answer to the agent
    assert says(p.on(turn("Hello?"))) == []


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("The number you have dialed is not in service.", "not_in_service"),
        ("The wireless customer you are calling is not available", "carrier"),
        ("您拨打的电话已关机", "carrier"),
        ("您拨打的电话正在通话中，请稍后再拨", "busy"),
    ],
)
def test_a_carrier_announcement_is_hung_up_on_in_silence(text: str, outcome: str) -> None:
    p = policy()
    p.start()
    feed(p, (False, 0.2), (True, 0.6))
    out = p.on(Partial(Transcript(text, "en", 0.9, 600, 50, True)))
    assert verdicts(out) == ["carrier"] and ends(out) == [outcome] and says(out) == []


def test_a_voicemail_under_the_us_profile_gets_the_message_after_the_beep() -> None:
    p = policy()
    p.start()
    assert feed(p, (False, 0.2), (True, 1.0)) == []
    out = p.on(Partial(Transcript("you've reached John, please leave a message after the tone", "en", 0.9,
                                  2000, 50, True)))
    assert says(out) == [] and ends(out) == []  # a voicemail: the greeting goes on, wait for it
    assert any(isinstance(x, c.StartTimer) and x.name == MESSAGE for x in out)
    assert says(feed(p, (True, 0.5))) == []
    out = feed(p, (False, 0.4), tone=1000.0) + feed(p, (False, 0.1))  # the beep, then its end
    assert verdicts(out) == ["voicemail"]
    assert says(out) == ["voicemail.say.0", "voicemail.say.1", "voicemail.say.2"]
    assert ends(out) == ["voicemail"]
    text = " ".join(x.say.text for x in out if isinstance(x, c.Speak))
    for secret in ("John", "Acme", "1,234", "one thousand", "March", "AI"):
        assert secret not in text


def test_a_voicemail_without_a_beep_gets_the_message_once_the_greeting_pauses() -> None:
    p = policy()
    p.start()
    out = feed(p, (False, 0.2), (True, 3.0))  # a greeting longer than a person's hello: a machine
    assert says(out) == [] and any(isinstance(x, c.StartTimer) and x.name == MESSAGE for x in out)
    assert says(feed(p, (False, 1.0))) == []
    out = feed(p, (False, 0.6))
    assert verdicts(out) == ["voicemail"] and says(out)[0] == "voicemail.say.0"


def test_a_machine_by_cadence_whose_words_are_a_carrier_ends_with_the_carrier_result() -> None:
    p = policy()
    p.start()
    assert says(feed(p, (False, 0.2), (True, 3.0))) == []  # a machine, words not recognised yet
    out = p.on(turn("The number you have dialed is not in service", 200, 3000))
    assert verdicts(out) == ["carrier"] and ends(out) == ["not_in_service"] and says(out) == []


def test_a_greeting_that_never_ends_gets_the_message_when_the_wait_runs_out() -> None:
    p = policy()
    p.start()
    out = feed(p, (False, 0.2), (True, 3.0))
    timer = next(x for x in out if isinstance(x, c.StartTimer) and x.name == MESSAGE)
    assert says(p.on(TimerFired(MESSAGE, timer.token)))[0] == "voicemail.say.0"


def test_a_voicemail_under_the_cn_profile_is_hung_up_on() -> None:
    p = policy("zh-CN", "CN")
    p.start()
    feed(p, (False, 0.2), (True, 1.0))
    out = p.on(turn("您好，我现在不方便接听，请在提示音后留言"))
    assert verdicts(out) == ["voicemail"] and ends(out) == ["voicemail"] and says(out) == []


def test_a_script_without_a_voicemail_state_hangs_up_even_under_the_us_profile() -> None:
    p = policy("zh-CN", "US")
    p.start()
    out = feed(p, (False, 0.2), (True, 3.0), (False, 1.6))
    assert ends(out) == ["voicemail"] and says(out) == []


def test_silence_until_the_analysis_time_is_a_person() -> None:
    p = policy()
    p.start()
    out = feed(p, (False, 4.0))
    assert verdicts(out) == ["unknown"] and says(out)[0] == "opening.disclosure.0"


def test_no_media_at_all_the_screen_timer_gives_the_opening() -> None:
    p = policy()
    out = p.start()
    timer = next(x for x in out if isinstance(x, c.StartTimer) and x.name == SCREEN)
    out = p.on(TimerFired(SCREEN, timer.token))
    assert verdicts(out) == ["unknown"] and says(out)[0] == "opening.disclosure.0"


def test_a_key_press_while_screening_is_a_person_and_acts() -> None:
    p = policy()
    p.start()
    out = p.on(KeyPress("9"))
    assert verdicts(out) == ["live"]
    assert any(isinstance(x, c.PersistOptOut) for x in out)
    assert ends(out) == ["opted_out"]


def test_without_screening_the_opening_is_said_at_once() -> None:
    setup = CallSetup("c1", "en-US", script_for("repayment_reminder", "en-US"), SLOTS["en-US"], TODAY,
                      jurisdiction="US")
    p = CallPolicy(setup, CallConfig())
    assert says(p.start())[0] == "opening.disclosure.0" and not p.screening


def test_a_hang_up_before_the_verdict_is_no_conversation() -> None:
    p = policy()
    p.start()
    feed(p, (False, 0.5))
    assert p.hung_up("hangup") == HANGUP_SCREENING
    assert p.hung_up("ended_by_operator") == "ended_by_operator"  # an operator's end is kept
    feed(p, (False, 3.6))  # the verdict: the opening plays
    assert p.hung_up("hangup") == "hangup"
