"""The live board, the script hash a call records, and the CLI verbs (console accounts, script publishing)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.call.live import LiveBoard, LiveRecorder
from agent.cli import app as cli
from agent.demo.runner import daytime_zone
from agent.dialogue.approval import load_manifest
from agent.store import CallGrant, CallRequest
from agent.transports.base import CallStart

ROOT = Path(__file__).resolve().parents[2]


class _Inner:
    def __init__(self) -> None:
        self.writes: list[str] = []

    async def record_opt_out(self, call_id: str, scope: str, via: str) -> None:
        self.writes.append("opt_out")

    async def record_turn(
        self, call_id: str, speaker: str, text: str, intent: str | None, start_ms: int
    ) -> None:
        self.writes.append("turn")

    async def record_event(self, call_id: str, kind: str, data: Any) -> None:
        self.writes.append(kind)

    async def finish_call(self, call_id: str, outcome: str, timings: Any) -> None:
        self.writes.append("finish")


async def test_the_board_shows_each_write_after_it_is_stored_redacted_and_can_end_a_call() -> None:
    board, inner, ended = LiveBoard(), _Inner(), []
    queue = board.subscribe()
    board.open("c1", {"script": "s"}, lambda: ended.append("c1"))
    rec = LiveRecorder(inner, board)
    await rec.record_turn("c1", "customer", "my card is 4111 1111 1111 1111", "affirm", 1200)
    assert inner.writes == ["turn"]
    assert board.end("c1") and ended == ["c1"] and not board.end("nope")
    await rec.finish_call("c1", "ended_by_operator", {"duration_ms": 3})
    seen = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [m["type"] for m in seen] == ["call", "turn", "ended"]
    assert "4111 1111" not in seen[1]["turn"]["text"]
    assert board.snapshot() == []


def test_latency_reaches_the_board_and_the_metrics() -> None:
    board, seen = LiveBoard(), []
    board.open("c2", {}, lambda: None)
    sink = board.metric_sink("c2", lambda name, value: seen.append(name))
    sink("voice_to_voice_ms", 812.0)
    sink("tts_ms", 40.0)
    assert seen == ["voice_to_voice_ms", "tts_ms"]
    assert board.snapshot()[0]["metrics"] == {"voice_to_voice_ms": 812.0}


async def test_an_admitted_call_carries_the_hash_of_the_approved_script(fake_runtime: Any) -> None:
    store = fake_runtime.store
    cid = store.register_customer(
        phone="+12025550177",
        name="T",
        timezone=daytime_zone("en-US"),
        now=datetime.now(UTC),
        jurisdiction="US",
    )
    grant = store.request_call(
        CallRequest(
            "servicing", "repayment_reminder", customer_id=cid, debt_id="d9", slots={"customer_name": "T"}
        )
    )
    assert isinstance(grant, CallGrant)
    setup = await fake_runtime.admit(CallStart("native", call_id=grant.call_id, token=grant.token))
    assert setup.script_hash == load_manifest()["en-US/repayment_reminder.yaml"]
    assert setup.describe()["script_hash"] == setup.script_hash
    await asyncio.sleep(0)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("VOICE_AGENT_STORE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("VOICE_AGENT_DIALOGUE__PROMPTS_DIR", str(ROOT / "prompts"))
    monkeypatch.chdir(ROOT)
    return {}


def _run(args: list[str], password: str) -> Any:
    return CliRunner().invoke(cli, args, env={"VOICE_AGENT_CONSOLE_PASSWORD": password})


def test_cli_accounts_and_four_eyes(env: dict[str, str]) -> None:
    assert (
        _run(
            ["console", "add-user", "alice", "--role", "author", "--role", "reviewer"], "alice-password"
        ).exit_code
        == 0
    )
    assert _run(["console", "add-user", "bob", "--role", "reviewer"], "bob-password1").exit_code == 0
    weak = _run(["console", "add-user", "eve", "--role", "author"], "short")
    assert weak.exit_code == 2 and "at least" in weak.output
    assert _run(["console", "add-user", "eve", "--role", "wizard"], "long-enough-pw").exit_code == 2
    assert "alice\tauthor,reviewer" in _run(["console", "list-users"], "").output
    sub = _run(
        ["script", "submit", "prompts/en-US/credit_limit_notice.yaml", "--as", "alice"], "alice-password"
    )
    assert sub.exit_code == 0, sub.output
    version = re.search(r"version (\d+) of", sub.output).group(1)  # type: ignore[union-attr]
    own = _run(["script", "approve", version, "--as", "alice"], "alice-password")
    assert own.exit_code == 2 and "different reviewer" in own.output
    wrong = _run(["script", "approve", version, "--as", "bob"], "not-bobs-password")
    assert wrong.exit_code == 2 and "wrong name or password" in wrong.output
    ok = _run(["script", "approve", version, "--as", "bob"], "bob-password1")
    assert ok.exit_code == 0 and "approved by bob" in ok.output
    assert "approved" in _run(["script", "list"], "").output
