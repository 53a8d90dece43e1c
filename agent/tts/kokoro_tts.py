"""Kokoro-82M v1.0 (int8 ONNX) Mandarin TTS: lexicon-first G2P, clause by clause, 16 kHz int16 out.

The model takes `tokens` int64 [1, n+2] (0 at both ends), `style` (row n-1 of the voice's
[510, 1, 256] table) and `speed`, and returns 24 kHz float32. Each clause (split at ，；：)
is one model run: the first clause of a long sentence is ready in a fraction of the
sentence's time, and `synthesize_clauses` yields it at once. The pause after a clause is
the model's own (measured, see PAUSE_MS); clauses rendered apart and joined have the same
pause as the sentence rendered whole.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from agent.audio.resample import resample
from agent.models import kokoro as files
from agent.tts.base import RATE, Speech, fade_edges, float_to_int16, split_clauses, split_sentences
from agent.tts.zh_g2p import MandarinG2P
from agent.tts.zh_lexicon import PronunciationLexicon

log = logging.getLogger(__name__)

NATIVE_RATE = 24000
DEFAULT_VOICE = "zf_xiaobei"
"""Lowest round-trip CER of the Mandarin voices (scripts/zh_voice_roundtrip.py, docs/models.md)."""
MAX_TOKENS = 510
"""The voice table has 510 rows: longer phoneme strings are rendered in pieces."""
GAIN = 1.0
"""One fixed gain for every clause: Kokoro's output sits near -20 dBFS RMS already, and a
per-clause normalisation would make the clauses of one sentence unequally loud."""
PEAK = 0.95
"""A clause whose peak would exceed this is turned down (rare; μ-law/A-law clip only above 1.0)."""
RENDER_VERSION = 3
"""Bumped whenever the audio for the same text changes (gain, trimming, pauses): part of the fingerprint."""
SILENCE = 0.003
"""Float level under which the model's output counts as silence when trimming. The model's
output is exactly 0.000 outside speech; the onset of an aspirated or fricative initial
(请 q, 是 sh, 听 t) rises from 0.001 to 0.01 over 30-40 ms, and a trim at 0.01 took it off:
the judge heard 请 as 进/星 and 听 as 请 (docs/models.md, round trip)."""
LEAD_MS = 60
"""Audio kept before the first sample above SILENCE (a weak onset, then silence)."""
TAIL_MS = 40
"""Audio kept after the last sample above SILENCE (a final's decay); part of the clause's pause."""
PAUSE_MS = {"，": 200, ",": 200, "、": 120, "；": 260, ";": 260, "：": 220, ":": 220}
"""Silence kept after a clause by its final punctuation; sentence ends keep END_MS."""
END_MS = 120
_THREADS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Model:
    """What every voice of one loaded model shares."""

    session: ort.InferenceSession
    vocab: dict[str, int]
    g2p: MandarinG2P
    folder: Path
    model_sha256: str


def _model_sha(folder: Path) -> str:
    marker = folder / ".joined-from-package"
    if marker.is_file():
        return marker.read_text(encoding="utf-8").strip()
    return files.sha256_file(folder / files.MODEL_FILE)


class KokoroSynthesizer:
    """One loaded Kokoro model speaking with one voice; thread-safe; `with_voice` shares the model."""

    def __init__(
        self,
        folder: Path | str,
        voice: str = DEFAULT_VOICE,
        *,
        speed: float = 1.0,
        threads: int = 1,
        lexicon: PronunciationLexicon | None = None,
        _model: _Model | None = None,
    ) -> None:
        started = time.perf_counter()
        fresh = _model is None
        if _model is None:
            path = Path(folder)
            if not files.is_kokoro_dir(path):
                raise FileNotFoundError(
                    f"{path} is not a Kokoro folder ({files.MODEL_FILE}, {files.VOCAB_FILE}, voices/); "
                    "run `voice-agent models install --locale zh-CN`"
                )
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            session = ort.InferenceSession(
                str(path / files.MODEL_FILE), sess_options=opts, providers=["CPUExecutionProvider"]
            )
            vocab = json.loads((path / files.VOCAB_FILE).read_text(encoding="utf-8"))["vocab"]
            g2p = MandarinG2P(lexicon or PronunciationLexicon.load())
            g2p.warm_up()
            _model = _Model(session, {str(k): int(v) for k, v in vocab.items()}, g2p, path, _model_sha(path))
        self._m = _model
        voices = files.voice_files(_model.folder / files.VOICES_DIR)
        if voice not in voices:
            raise ValueError(
                f"Kokoro has no Mandarin voice {voice!r}; choose from {', '.join(sorted(voices))}"
            )
        self.voice = voice
        self.speed = float(speed)
        self._style = np.fromfile(voices[voice], dtype=np.float32).reshape(-1, 256)
        self.fingerprint = (
            f"kokoro-v1.0-int8/{RENDER_VERSION}:{_model.model_sha256[:16]}:{voice}:{files.VOICE_SHA256[voice][:16]}"
            f":{self.speed:g}:{_model.g2p.fingerprint}"
        )
        """Everything the audio depends on: the disk cache keys on it."""
        if fresh:
            self.synthesize("您好。")  # the first run of an ONNX session is slow
        self.load_ms = int((time.perf_counter() - started) * 1000)
        log.info("kokoro voice %s loaded in %d ms", voice, self.load_ms)

    @property
    def voices(self) -> list[str]:
        """The Mandarin voices installed beside the model."""
        return sorted(files.voice_files(self._m.folder / files.VOICES_DIR))

    def with_voice(self, voice: str) -> KokoroSynthesizer:
        """The same loaded model speaking with another voice (no second model in memory)."""
        return KokoroSynthesizer(self._m.folder, voice, speed=self.speed, _model=self._m)

    def phonemes(self, text: str) -> str:
        """The phoneme string the model is given for text."""
        return self._m.g2p.phonemes(text)

    def _run(self, tokens: list[int]) -> np.ndarray:
        style = self._style[min(len(tokens), len(self._style)) - 1].reshape(1, 256)
        out = self._m.session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": style,
                "speed": np.array([self.speed], dtype=np.float32),
            },
        )[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def render_clause(self, clause: str) -> np.ndarray:
        """One clause → 24 kHz float audio, silence trimmed, its pause (by punctuation) after it."""
        phonemes = self.phonemes(clause)
        tokens = [self._m.vocab[c] for c in phonemes if c in self._m.vocab]
        if not any(t not in (self._m.vocab.get(" "), None) for t in tokens):
            return np.zeros(0, dtype=np.float32)
        parts = [self._run(tokens[i : i + MAX_TOKENS]) for i in range(0, len(tokens), MAX_TOKENS)]
        audio = np.concatenate(parts)
        pause_ms = next((ms for p, ms in PAUSE_MS.items() if clause.rstrip().endswith(p)), END_MS)
        return trim(audio, pause_ms)

    def _to_speech(self, audio: np.ndarray, text: str, started: float) -> Speech:
        if not len(audio):
            return Speech(np.zeros(0, dtype=np.int16), text, RATE, _ms_since(started))
        peak = float(np.abs(audio).max())
        gain = min(GAIN, PEAK / peak) if peak > 1e-6 else 0.0
        pcm = fade_edges(resample(float_to_int16(audio, gain), NATIVE_RATE, RATE))
        return Speech(pcm, text, RATE, _ms_since(started))

    def clauses(self, text: str) -> list[str]:
        """The pieces `synthesize_clauses` renders one by one."""
        return [c for s in split_sentences(text) for c in split_clauses(s)]

    def synthesize_clause(self, clause: str) -> Speech:
        """Render one clause (as listed by `clauses`) to 16 kHz speech with its trailing pause."""
        started = time.perf_counter()
        return self._to_speech(self.render_clause(clause), clause, started)

    def synthesize_clauses(self, text: str) -> Iterator[Speech]:
        """Render text clause by clause, yielding each as soon as it is ready."""
        for clause in self.clauses(text):
            yield self.synthesize_clause(clause)

    def synthesize(self, text: str) -> Speech:
        """Render text to 16 kHz speech (all clauses joined; same audio as the clauses played in turn)."""
        started = time.perf_counter()
        pieces = [s.pcm16k for s in self.synthesize_clauses(text)]
        pcm = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
        return Speech(pcm, text, RATE, _ms_since(started))


def trim(audio: np.ndarray, pause_ms: int, rate: int = NATIVE_RATE) -> np.ndarray:
    """The model's output without its leading and trailing silence, LEAD_MS of onset kept before the
    first sample above SILENCE and TAIL_MS after the last, then silence to make a pause of pause_ms."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE)
    if len(loud) == 0:
        return np.zeros(0, dtype=np.float32)
    lead, tail = rate * LEAD_MS // 1000, rate * TAIL_MS // 1000
    voiced = audio[max(0, loud[0] - lead) : loud[-1] + 1 + tail]
    pad = np.zeros(rate * max(0, pause_ms - TAIL_MS) // 1000, dtype=np.float32)
    return np.concatenate((voiced.astype(np.float32), pad))


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
