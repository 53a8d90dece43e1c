"""Engine fixtures: real models, loaded once per test session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from agent.audio.codecs import ulaw_decode, ulaw_encode
from agent.audio.resample import resample
from agent.models.resolver import resolve


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "models: loads real model weights")


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty models dir, so everything resolves from the packages (whisper-base joins here)."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def piper(models_dir: Path):  # type: ignore[no-untyped-def]
    from agent.tts.piper_tts import PiperSynthesizer

    # deterministic voice: VITS samples noise per call, and a test must hear the same audio each run
    return PiperSynthesizer(resolve("tts-en", models_dir=models_dir).path, noise_scale=0.0, noise_w_scale=0.0)


@pytest.fixture(scope="session")
def whisper_en(models_dir: Path):  # type: ignore[no-untyped-def]
    from agent.asr.whisper import WhisperRecognizer

    return WhisperRecognizer(resolve("asr-en", models_dir=models_dir).path, "en", cpu_threads=2)


@pytest.fixture(scope="session")
def engines_en(models_dir: Path) -> Iterator[object]:
    from agent.engines import Engines

    engines = Engines.load(["en-US"], models_dir=models_dir, asr_threads=1, pool_workers=2, pool_queue=8)
    yield engines
    engines.close()


def _phone_line(pcm16k: np.ndarray) -> np.ndarray:
    """16 kHz → 8 kHz μ-law → 16 kHz, as audio would come back from a Twilio call."""
    return resample(ulaw_decode(ulaw_encode(resample(pcm16k, 16000, 8000))), 8000, 16000)


@pytest.fixture(scope="session")
def phone_line() -> Callable[[np.ndarray], np.ndarray]:
    """The μ-law 8 kHz round trip as a function."""
    return _phone_line
