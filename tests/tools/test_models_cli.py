"""`voice-agent models list|install|verify` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import app
from agent.models.resolver import resolve, sha256_of

runner = CliRunner()


def _run(models_dir: Path, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app, ["models", *args], env={"VOICE_AGENT_MODELS__DIR": str(models_dir), "COLUMNS": "200", **env}
    )


def test_list_json_names_each_en_model_with_source_size_and_checksum(tmp_path: Path) -> None:
    result = _run(tmp_path, "list", "--locale", "en-US", "--checksums", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    rows = {r["model"]: r for r in body["models"]}
    assert set(rows) == {"asr-en", "tts-en", "vad", "encoder-en"}
    assert body["missing"] == []
    vad = rows["vad"]
    assert vad["source"] == "package" and vad["size_bytes"] > 1_000_000
    assert vad["sha256"] == sha256_of(Path(vad["path"]))
    assert all(len(r["sha256"]) == 64 for r in rows.values())


def test_list_table_without_checksums(tmp_path: Path) -> None:
    result = _run(tmp_path, "list", "-l", "en-US")
    assert result.exit_code == 0, result.output
    for name in ("asr-en", "tts-en", "vad", "encoder-en", "package", "MB"):
        assert name in result.stdout
    assert "sha256" not in result.stdout


def test_list_exits_1_when_a_configured_model_is_missing(tmp_path: Path) -> None:
    result = _run(tmp_path, "list", "-l", "en-US", "--json",
                  VOICE_AGENT_MODELS__PATHS='{"vad": "/nowhere/silero.onnx"}')
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    assert body["missing"] == ["vad"]
    assert "models.paths.vad" in next(r["fix"] for r in body["models"] if r["model"] == "vad")


def test_unknown_locale_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(tmp_path, "list", "-l", "fr-FR")
    assert result.exit_code == 2
    assert "unknown locale 'fr-FR'" in result.output


def test_install_assembles_models_dir_and_skips_what_is_there(tmp_path: Path) -> None:
    models = tmp_path / "models"
    first = _run(models, "install", "-l", "en-US")
    assert first.exit_code == 0, first.output
    assert (models / "asr-en" / "model.bin").is_file()
    assert (models / "en_US-joe-medium.onnx.json").is_file()
    assert (models / "silero_vad.onnx").is_file()
    assert (models / "encoder-en" / "model.safetensors").is_file()
    for name in ("asr-en", "tts-en", "vad", "encoder-en"):
        found = resolve(name, models_dir=models)
        assert found.source == "models_dir", name
        assert found.path.is_relative_to(models)
    assert sha256_of(models / "silero_vad.onnx") == sha256_of(resolve("vad", models_dir=tmp_path / "x").path)
    second = _run(models, "install", "-l", "en-US")
    assert second.exit_code == 0, second.output
    assert "0 file(s) copied" in second.stdout


def test_install_repairs_a_truncated_file(tmp_path: Path) -> None:
    models = tmp_path / "models"
    assert _run(models, "install", "-l", "en-US").exit_code == 0
    vad = models / "silero_vad.onnx"
    vad.write_bytes(vad.read_bytes()[:1000])
    result = _run(models, "install", "-l", "en-US")
    assert result.exit_code == 0, result.output
    assert "1 file(s) copied" in result.stdout
    assert vad.stat().st_size > 1_000_000


@pytest.mark.slow
def test_install_joins_whisper_base_for_zh(tmp_path: Path) -> None:
    models = tmp_path / "models"
    result = _run(models, "install", "-l", "zh-CN")
    assert result.exit_code == 0, result.output
    found = resolve("asr-multi", models_dir=models)
    assert found.path == models / "asr-multi" and found.source == "models_dir"
    assert (models / "asr-multi" / "model.bin").stat().st_size > 100_000_000


@pytest.mark.models
def test_verify_en_runs_each_smoke_test(tmp_path: Path) -> None:
    result = _run(tmp_path, "verify", "-l", "en-US")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "recognised 'Yes, this is John.'" in out or "John" in out
    assert "synthesised" in out and "of speech" in out
    assert "FAILED" not in out


@pytest.mark.models
def test_verify_exits_1_when_a_model_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx model")
    result = _run(tmp_path, "verify", "-l", "en-US", VOICE_AGENT_MODELS__PATHS=json.dumps({"vad": str(bad)}))
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.stdout and "vad" in result.stdout
