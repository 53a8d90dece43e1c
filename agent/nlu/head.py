"""A learned opt-out head (SPEC 6.2a): logistic regression over the e5 vector and hashed n-grams.

The structural detector (`agent.nlu.optout`) is precise but only knows the frames it was
written for; the head generalises from labelled phrasings. Its features are the
multilingual-e5-small embedding the semantic layer already computes, plus a bag of hashed
n-grams of the rule-normalised text (en-US: words, word pairs and in-word character 4-grams,
which survive ASR mis-hearings such as "colleen me"; zh-CN: character 1-3-grams). Weights,
standardisation and the decision threshold are data, one .npz per locale
(prompts/<locale>/nlu_optout_head.npz), written by scripts/train_optout_head.py together
with the sha256 of the corpora it was trained on. Pure numpy: no I/O outside `load`/`save`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

__all__ = ["OptOutHead", "bag_of_ngrams", "fit_logistic"]

_WORD = re.compile(r"[a-z0-9']+")
_NON_WORD = re.compile(r"[^\w]")


def _tokens(text: str, cjk: bool) -> set[str]:
    """The n-grams of one normalised utterance."""
    text = text.lower()
    if cjk:
        chars = _NON_WORD.sub("", text)
        return {chars[i : i + k] for k in (1, 2, 3) for i in range(len(chars) - k + 1)}
    words = _WORD.findall(text)
    grams = set(words) | {f"{a} {b}" for a, b in pairwise(words)}
    grams |= {f"#{w[i : i + 4]}" for w in words for i in range(max(1, len(w) - 3))}
    return grams


def bag_of_ngrams(texts: Sequence[str], *, cjk: bool, dim: int) -> np.ndarray:
    """Binary hashed n-gram features, one row per text (crc32: stable across processes)."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        for gram in _tokens(text, cjk):
            out[row, zlib.crc32(gram.encode("utf-8")) % dim] = 1.0
    return out


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, *, l2: float = 10.0, iterations: int = 15
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method on standardised features.

    Returns (mean, scale, weights, bias). Classes are weighted to equal total mass, so the
    threshold, not the class balance of the corpora, sets the operating point. The bias is
    a constant column under the same (weak) penalty. With more features than rows each
    Newton step is solved in the row space (Woodbury), so a 4,000-feature fit takes seconds.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mean = x.mean(axis=0)
    spread = x.std(axis=0)
    scale = np.where(spread > 1e-6, spread, np.inf)  # a constant column gets weight 0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    positives = max(1.0, float(y.sum()))
    negatives = max(1.0, float(len(y) - y.sum()))
    weight = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * negatives))
    rows, cols = z.shape
    gram = z @ z.T if rows < cols else None
    theta = np.zeros(cols)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ theta)))
        gradient = z.T @ (weight * (p - y)) + l2 * theta
        curvature = np.maximum(weight * p * (1 - p), 1e-12)
        if gram is not None:
            inner = gram + np.diag(l2 / curvature)
            step = (gradient - z.T @ np.linalg.solve(inner, z @ gradient)) / l2
        else:
            step = np.linalg.solve((z * curvature[:, None]).T @ z + l2 * np.eye(cols), gradient)
        theta -= step
        if float(np.abs(step).max()) < 1e-7:
            break
    return mean, scale, theta[:-1], float(theta[-1])


@dataclass(frozen=True, slots=True)
class OptOutHead:
    """P(opt-out | utterance) from the encoder vector and the normalised text."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float
    """At or above it the utterance is an opt-out the agent confirms (SPEC 6.2a)."""
    ngram_dim: int
    cjk: bool
    data_sha256: str = ""

    def features(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """The head's input rows: encoder vectors then hashed n-grams."""
        grams = bag_of_ngrams(texts, cjk=self.cjk, dim=self.ngram_dim)
        return np.hstack([np.atleast_2d(vectors).astype(np.float32), grams])

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """P(opt-out) per row."""
        z = (self.features(vectors, texts) - self.mean) / self.scale
        return np.asarray(1.0 / (1.0 + np.exp(-(z @ self.weights + self.bias))), dtype=np.float64)

    def probability(self, vector: np.ndarray, text: str) -> float:
        """P(opt-out) of one utterance."""
        return float(self.probabilities(vector[None, :], [text])[0])

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        texts: Sequence[str],
        labels: np.ndarray,
        *,
        cjk: bool,
        ngram_dim: int = 4096,
        l2: float = 10.0,
        threshold: float = 0.5,
        data_sha256: str = "",
    ) -> OptOutHead:
        """Train on labelled rows (labels 1 = opt-out)."""
        x = np.hstack([vectors.astype(np.float32), bag_of_ngrams(texts, cjk=cjk, dim=ngram_dim)])
        mean, scale, weights, bias = fit_logistic(x, labels, l2=l2)
        return cls(mean, scale, weights, bias, threshold, ngram_dim, cjk, data_sha256)

    def with_threshold(self, threshold: float) -> OptOutHead:
        """The same weights at another operating point."""
        return OptOutHead(
            self.mean,
            self.scale,
            self.weights,
            self.bias,
            threshold,
            self.ngram_dim,
            self.cjk,
            self.data_sha256,
        )

    def save(self, path: str | Path) -> None:
        """Write the .npz (float32 weights; an infinite scale is stored as 0)."""
        np.savez_compressed(
            Path(path),
            mean=self.mean.astype(np.float32),
            scale=np.where(np.isfinite(self.scale), self.scale, 0.0).astype(np.float32),
            weights=self.weights.astype(np.float32),
            bias=np.float64(self.bias),
            threshold=np.float64(self.threshold),
            ngram_dim=np.int64(self.ngram_dim),
            cjk=np.bool_(self.cjk),
            data_sha256=np.str_(self.data_sha256),
        )

    @classmethod
    def load(cls, path: str | Path) -> OptOutHead:
        """Read a head written by `save`."""
        with np.load(Path(path), allow_pickle=False) as data:
            scale = data["scale"].astype(np.float64)
            return cls(
                mean=data["mean"].astype(np.float64),
                scale=np.where(scale > 0, scale, np.inf),
                weights=data["weights"].astype(np.float64),
                bias=float(data["bias"]),
                threshold=float(data["threshold"]),
                ngram_dim=int(data["ngram_dim"]),
                cjk=bool(data["cjk"]),
                data_sha256=str(data["data_sha256"]),
            )
