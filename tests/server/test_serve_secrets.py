"""No default secrets off loopback (issue 12, finding 3); `keys generate`; a restart while TIME-WAIT
sockets remain (issue 11, item 7)."""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.cli.serve import check_port
from agent.config import Settings
from agent.server.default_secrets import SECRETS, is_loopback, shipped_in_use

SHIPPED = (
    "server.api_keys", "store.phone_hash_key", "store.data_key",
    "campaigns.number_key", "campaigns.caller_id_secret", "campaigns.callback_secret",
)


@pytest.fixture(autouse=True)
def _no_repo_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_AGENT_CONFIG", "/nonexistent/config.yaml")  # defaults = shipped values


def test_serve_refuses_a_public_bind_with_shipped_secrets() -> None:
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and "refusing to serve on 0.0.0.0" in line
    assert all(k in line for k in SHIPPED) and "voice-agent keys generate" in line
    assert "VOICE_AGENT_STORE__PHONE_HASH_KEY" in line


def test_one_fresh_secret_is_not_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICE_AGENT_STORE__PHONE_HASH_KEY", "a-fresh-phone-hash-key-0123456789")
    result = CliRunner().invoke(app, ["serve", "--host", "10.1.2.3", "--port", "0"])
    assert result.exit_code == 2 and "store.phone_hash_key" not in result.output
    assert "server.api_keys" in result.output and "store.data_key" in result.output


def test_loopback_serves_with_shipped_secrets() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 2 and "in use" in result.output  # past the secrets check, to the port
    assert "refusing" not in result.output
    assert is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")


def test_keys_generate_prints_fresh_values_that_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    first = CliRunner().invoke(app, ["keys", "generate"])
    second = CliRunner().invoke(app, ["keys", "generate"])
    assert first.exit_code == 0 and first.output != second.output
    lines = first.output.strip().splitlines()
    assert len(lines) == len(SECRETS)
    env = {name: value.strip("'") for name, _, value in (line.partition("=") for line in lines)}
    assert isinstance(json.loads(env["VOICE_AGENT_SERVER__API_KEYS"]), list)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = Settings()
    assert shipped_in_use(cfg) == []
    assert cfg.server.api_keys and cfg.server.api_keys[0] != "dev-key-change-me"
    from agent.store.crypto import FieldCipher

    FieldCipher(cfg.store.data_key)  # a valid 32-byte key


def test_restart_while_time_wait_sockets_remain() -> None:
    """The old probe bound without SO_REUSEADDR: a restart failed while TIME-WAIT sockets remained."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()  # the server side closes first: its end of the connection goes to TIME-WAIT
    client.recv(1)
    client.close()
    server.close()  # the "old server process" is gone; only the TIME-WAIT socket remains
    with socket.socket() as plain:
        try:
            plain.bind(("127.0.0.1", port))
            time_wait_blocks = False
        except OSError:
            time_wait_blocks = True
    check_port("127.0.0.1", port)  # the restart's probe succeeds
    if not time_wait_blocks:
        pytest.skip("this kernel let a plain bind through; the probe still passed")
