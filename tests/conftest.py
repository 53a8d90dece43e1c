"""Suite-wide settings: offline models; one loaded runtime per process for the tests that need
real models (`call_runtime`), and a runtime on fake engines for socket and API tests that do not
(`fake_runtime`: agent/testing fakes, rules-only NLU, a fresh SQLite store; loads in well under
a second)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

try:  # property tests: no per-example deadline; a loaded machine makes one example slow, not wrong
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("suite", deadline=None)
    _hypothesis_settings.load_profile("suite")
except ImportError:  # pragma: no cover - hypothesis is in the dev extra
    pass
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


@pytest.fixture
def fake_runtime(tmp_path: Path) -> Iterator[object]:
    """The runtime on fake engines (no model weights), a fresh SQLite store, rules-only NLU."""
    from agent.config import Settings
    from agent.runtime import Runtime
    from agent.testing.fakes import FakeEngines

    settings = Settings()
    settings.store.url = f"sqlite:///{tmp_path / 'calls.db'}"
    settings.dialogue.prompts_dir = ROOT / "prompts"
    settings.models.dir = ROOT / "models"
    yield Runtime.load(settings, engines=FakeEngines(), semantic_nlu=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs two workers), the real-time end-to-end calls (`slow`) go to
    one worker, one after another, as in a serial run: each is a real-time call whose timing a second
    real-time call on the same two cores would distort. Everything else spreads over the workers."""
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.xdist_group("realtime"))
