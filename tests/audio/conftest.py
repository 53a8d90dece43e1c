"""Audio test fixtures: the real Silero model and Piper voice, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.audio.vad import SileroVad
from agent.models.resolver import resolve


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "models: loads real model weights")


@pytest.fixture(scope="session")
def vad_model() -> SileroVad:
    return SileroVad(resolve("vad", models_dir=Path("models")).path)


@pytest.fixture(scope="session")
def piper_en():  # type: ignore[no-untyped-def]
    from agent.tts.piper_tts import PiperSynthesizer

    return PiperSynthesizer(resolve("tts-en", models_dir=Path("models")).path)
