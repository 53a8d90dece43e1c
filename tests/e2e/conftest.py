"""End-to-end calls share the suite's one loaded runtime (tests/conftest.py `call_runtime`)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def transports_e2e_runtime(call_runtime: object) -> object:
    """The runtime for the gateway end-to-end calls: the same one, so models load once.

    The gateway tests use their own phone numbers (110-146), so one call's opt-out never
    blocks another's gate check on the shared store.
    """
    return call_runtime
