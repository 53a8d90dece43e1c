"""Kokoro fixtures: the real model, assembled from the packages once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import missing_prerequisite


@pytest.fixture(scope="session")
def kokoro_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from agent.models import kokoro
    from agent.models.resolver import MissingModelError, resolve

    try:
        model = resolve("tts-zh", models_dir=tmp_path_factory.mktemp("models"))
    except MissingModelError as exc:
        missing_prerequisite(f"Kokoro not installed: {exc}")
    if model.source == "espeak-ng":
        missing_prerequisite("Kokoro packages or npm voices not installed (make setup installs them)")
    assert kokoro.is_kokoro_dir(model.path)
    return model.path


@pytest.fixture(scope="session")
def kokoro(kokoro_dir: Path):  # type: ignore[no-untyped-def]
    from agent.tts.kokoro_tts import KokoroSynthesizer

    return KokoroSynthesizer(kokoro_dir, "zf_xiaobei", threads=2)


@pytest.fixture(scope="session")
def models_dir_asr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from agent.models.resolver import resolve

    return resolve("asr-multi", models_dir=tmp_path_factory.mktemp("asr")).path
