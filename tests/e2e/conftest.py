"""End-to-end calls: one loaded runtime on its own SQLite store, shared by the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def transports_e2e_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The real runtime for the transport end-to-end calls, loaded once per test session."""
    from agent.config import Settings
    from agent.runtime import Runtime

    store = tmp_path_factory.mktemp("transports_e2e") / "calls.db"
    settings = Settings()
    settings.store.url = f"sqlite:///{store}"
    settings.dialogue.prompts_dir = ROOT / "prompts"
    settings.models.dir = ROOT / "models"
    settings.call.no_input_ms = 2500  # the silence scenario, faster
    runtime = Runtime.load(settings)
    yield runtime
    runtime.engines.close()
