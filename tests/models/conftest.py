"""Model-resolver fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "models: loads real model weights")


@pytest.fixture(scope="session")
def joined_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models dir whose whisper-base join is done once for the session."""
    from agent.models.resolver import resolve

    d = tmp_path_factory.mktemp("models")
    resolve("asr-multi", models_dir=d)
    return d
