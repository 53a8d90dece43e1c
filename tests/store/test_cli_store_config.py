"""Operator trap (issue 12, finding 7): store commands use the server's configuration, and refuse a
store written with other keys instead of answering "not suppressed" for a suppressed number."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.store import Store
from agent.store.crypto import generate_key

SERVER_KEY = "the-servers-own-phone-hash-key"


@pytest.fixture
def server_store(store_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A store the server wrote with its own keys (from its config file), holding one suppression."""
    data_key = generate_key()
    config = tmp_path / "server.yaml"
    config.write_text(
        f"store:\n  url: '{store_url}'\n  phone_hash_key: {SERVER_KEY}\n  data_key: '{data_key}'\n"
    )
    st = Store.open(store_url, SERVER_KEY, data_key=data_key)
    st.suppress("+12025550143", "all", "crm", datetime.now(UTC))
    st.close()
    return store_url, config


def test_check_with_only_the_store_url_refuses(
    server_store: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = server_store
    monkeypatch.setenv("VOICE_AGENT_CONFIG", "/nonexistent/config.yaml")
    monkeypatch.setenv("VOICE_AGENT_STORE__URL", url)  # the trap: the URL alone, the shipped hash key
    result = CliRunner().invoke(app, ["suppression", "check", "+12025550143"])
    assert result.exit_code == 2, result.output  # before: exit 1 "not suppressed"
    assert "not suppressed" not in result.output
    assert "store.phone_hash_key is not the key this store was written with" in result.output


def test_check_with_the_servers_config_answers_right(
    server_store: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, config = server_store
    result = CliRunner().invoke(app, ["suppression", "--config", str(config), "check", "+12025550143"])
    assert result.exit_code == 0 and "suppressed for servicing" in result.output
    monkeypatch.setenv("VOICE_AGENT_CONFIG", str(config))  # or the same file through the environment
    assert CliRunner().invoke(app, ["audit", "verify"]).exit_code == 0


def test_remove_needs_a_reason(server_store: tuple[str, Path]) -> None:
    _, config = server_store
    runner = CliRunner()
    assert runner.invoke(app, ["suppression", "-c", str(config), "remove", "+12025550143"]).exit_code == 2
    done = runner.invoke(
        app, ["suppression", "-c", str(config), "remove", "+12025550143", "--reason", "re-consented"]
    )
    assert done.exit_code == 0 and "removed 1 entry" in done.output


def test_a_store_with_records_but_no_recorded_keys_is_refused(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    st = Store.open(store_url, SERVER_KEY)
    st.suppress("+12025550143", "all", "crm", datetime.now(UTC))
    with st._engine.begin() as conn:  # as a store from before revision 0002
        conn.exec_driver_sql("DELETE FROM store_keys")
    st.close()
    monkeypatch.setenv("VOICE_AGENT_CONFIG", "/nonexistent/config.yaml")
    monkeypatch.setenv("VOICE_AGENT_STORE__URL", store_url)
    result = CliRunner().invoke(app, ["suppression", "check", "+12025550143"])
    assert result.exit_code == 2 and "no fingerprint of its keys" in result.output


def test_a_csv_that_is_not_utf8_is_one_line(server_store: tuple[str, Path], tmp_path: Path) -> None:
    _, config = server_store
    bad = tmp_path / "dnc.csv"
    bad.write_bytes("+14155550191,all,caf\xe9\n".encode("latin-1"))
    result = CliRunner().invoke(app, ["suppression", "-c", str(config), "import", str(bad)])
    assert result.exit_code == 2 and "is not UTF-8" in result.output
