"""Suite-wide settings: offline models, and one loaded runtime shared by the call-loop tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent


def missing_prerequisite(reason: str) -> None:
    """Skip on a developer's machine, but FAIL under CI: there a missing install step is a bug."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is missing a prerequisite the project must install: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def call_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The real runtime (models, scripts, NLU) on a fresh SQLite store, loaded once per session."""
    from agent.config import Settings
    from agent.runtime import Runtime

    store = tmp_path_factory.mktemp("store") / "calls.db"
    settings = Settings()
    settings.store.url = f"sqlite:///{store}"
    settings.dialogue.prompts_dir = ROOT / "prompts"
    settings.models.dir = ROOT / "models"
    settings.call.no_input_ms = 3000  # the silence scenario, faster
    runtime = Runtime.load(settings)
    yield runtime
    runtime.engines.close()
