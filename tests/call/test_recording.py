"""Call recording (SPEC 7.7): both sides in one WAV when on, nothing when off, purged after retention."""

from __future__ import annotations

import os
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from agent.call.recording import CallAudio, purge_recordings, recording_path
from agent.testing.harness import CallHarness


@pytest.mark.looptime(noop_cycles=0)
async def test_a_recorded_call_has_the_customer_left_and_the_agent_right(tmp_path: Path) -> None:
    path = recording_path(tmp_path, "call-1")
    call = CallHarness()
    call.recording = CallAudio(path)
    async with call:
        await call.agent_said("opening.say.0")
        await call.agent_quiet()
        await call.say("Yes, this is John.")
        await call.agent_said("reminder.say.0")
        call.hang_up()
        await call.ended()
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 16000, 2)
        audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    customer, agent = audio[:, 0], audio[:, 1]
    spoke = np.flatnonzero(customer)
    talked = np.flatnonzero(agent)
    assert len(spoke) and len(talked)
    assert talked[0] < 16000 // 2  # the agent spoke first, from the start
    assert spoke[0] > 3 * 16000  # the customer answered after the 3 s greeting


def test_recordings_past_the_retention_are_purged(tmp_path: Path) -> None:
    old = recording_path(tmp_path, "old")
    new = recording_path(tmp_path, "new")
    for p in (old, new):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"RIFF")
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    assert purge_recordings(tmp_path, retention_days=30) == 1
    assert not old.exists() and new.exists()
    assert purge_recordings(tmp_path / "missing", 30) == 0


async def test_recording_is_on_only_when_configured(fake_runtime: object, tmp_path: Path) -> None:
    from agent.call.contracts import CallSetup
    from agent.runtime import Runtime
    from agent.testing.fakes import FakeOutput
    from agent.testing.harness import SLOTS, TODAY, script_for

    assert isinstance(fake_runtime, Runtime)
    cfg = fake_runtime.settings.compliance
    cfg.recordings_dir = tmp_path
    setup = CallSetup("c9", "en-US", script_for("repayment_reminder", "en-US"), SLOTS["en-US"], TODAY)
    assert fake_runtime.new_session(setup, FakeOutput())._recording is None  # off by default
    cfg.record_audio = True
    recording = fake_runtime.new_session(setup, FakeOutput())._recording
    assert recording is not None and recording.path.parent.parent == tmp_path
    old = recording_path(tmp_path, "ancient")
    old.parent.mkdir(parents=True)
    old.write_bytes(b"RIFF")
    os.utime(old, (0, 0))
    assert fake_runtime.purge_recordings() == 1  # at start-up and hourly, past retention_days
