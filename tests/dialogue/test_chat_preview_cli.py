"""`voice-agent chat` (typed customer turns through the real engine and NLU) and `voice-agent preview`."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "prompts"


def _chat(*args: str, stdin: str) -> str:
    result = CliRunner().invoke(app, ["chat", "--prompts", str(PROMPTS), "--rules-only", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_chat_zh_promise_to_pay_with_date() -> None:
    out = _chat("--script", "repayment_reminder", "--locale", "zh-CN", stdin="是的\n我下个月5号还\n")
    assert "人工智能" in out and "intent=affirm" in out
    assert "intent=promise_to_pay" in out and "'date':" in out
    assert "call ended: promise_to_pay" in out


def test_chat_en_dtmf_opt_out_and_silence() -> None:
    out = _chat(
        "--script", "credit_limit_notice", "--locale", "en-US", stdin="/silence\nyes speaking\n/dtmf 9\n"
    )
    assert "Sorry, I didn't hear anything." in out
    assert "state=limit_raised" in out
    assert "opt-out recorded (dtmf)" in out and "call ended: opted_out" in out


def test_chat_temporary_limit_branch() -> None:
    out = _chat(
        "--script",
        "credit_limit_notice",
        "--locale",
        "zh-CN",
        "--slot",
        "temporary_limit=30000",
        "--slot",
        "temporary_limit_expiry=2030-01-31",
        stdin="是我\n把我号码删了\n",
    )
    assert "临时额度三万元" in out
    assert "intent=opt_out" in out and "call ended: opted_out" in out


def test_chat_unknown_script_is_a_one_line_error() -> None:
    result = CliRunner().invoke(app, ["chat", "--script", "nope", "--prompts", str(PROMPTS)], input="")
    assert result.exit_code == 2


@pytest.mark.models
def test_preview_renders_the_chosen_utterances_in_mandarin(tmp_path: Path) -> None:
    """Every zh-CN sentence is rendered by scripts/zh_voice_roundtrip.py; here two groups, through the CLI."""
    args = ["preview", str(PROMPTS / "zh-CN/credit_limit_notice.yaml"), "--out", str(tmp_path)]
    result = CliRunner().invoke(
        app, [*args, "--prompts", str(PROMPTS), "--only", "opening", "--only", "global.opt_out"]
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.glob("*.wav")}
    assert "opening.disclosure.0.wav" in names and "global.opt_out.0.wav" in names
    assert all(n.startswith(("opening", "global.opt_out")) for n in names)
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert page.count("<audio") == len(names) and "人工智能" in page  # the AI disclosure is in the opening
    with wave.open(str(tmp_path / "opening.disclosure.0.wav")) as wav:
        assert wav.getframerate() == 16000 and wav.getnframes() > 16000
    nothing = CliRunner().invoke(app, [*args, "--only", "no_such_state"])
    assert nothing.exit_code != 0 and "no utterance id starts with no_such_state" in nothing.output


@pytest.mark.models
@pytest.mark.parametrize("name", ["en-US/credit_limit_notice.yaml"])
def test_preview_renders_every_utterance(tmp_path: Path, name: str) -> None:
    result = CliRunner().invoke(
        app, ["preview", str(PROMPTS / name), "--out", str(tmp_path), "--prompts", str(PROMPTS)]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    wavs = sorted(tmp_path.glob("*.wav"))
    assert len(wavs) >= 20
    assert page.count("<audio") == len(wavs)
    assert "opening.disclosure.0.wav" in page and "global.opt_out.0.wav" in page
    with wave.open(str(tmp_path / "opening.disclosure.0.wav")) as wav:
        assert wav.getframerate() == 16000 and wav.getnframes() > 16000
