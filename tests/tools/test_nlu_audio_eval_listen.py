"""scripts/nlu_audio_eval.py hears a line through the call's listener, whichever way its VAD answers.

With the VAD on its own thread (engines.vad_thread, the default) a frame's verdict comes back
after `feed` returns; the eval must wait for every verdict, or it hears nothing at all (it once
reported recall 0 on a whole set this way).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from agent.config import CallConfig
from agent.testing.fakes import FakeEngines
from agent.testing.speech import SpeechBook

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "nlu_audio_eval.py"


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("nlu_audio_eval", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("delay", [None, 0.035])
async def test_a_spoken_line_becomes_one_segment(delay: float | None) -> None:
    book = SpeechBook()
    line = np.concatenate([book.silence(1000), book.line("please stop calling me", 1200), book.silence(1500)])
    engines = FakeEngines(vad_delay_s=delay)
    segments = await _script()._listen(engines, line, CallConfig(), "en-US")
    assert len(segments) == 1
    assert 1200 * 16 <= len(segments[0]) <= 2200 * 16  # the speech, its pre-roll and tail, not the silence
