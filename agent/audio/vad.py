"""Silero VAD (v5/v6 ONNX) for 20 ms frames at 16 kHz, one shared session, per-call state."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from agent.audio.frames import FRAME_SAMPLES, INTERNAL_RATE

log = logging.getLogger(__name__)

WINDOW = 512
"""Samples per model call at 16 kHz (32 ms), fixed by Silero v5+."""
CONTEXT = 64
"""Trailing samples of the previous window that Silero v5+ expects prepended."""


@dataclass(frozen=True, slots=True)
class VadFrame:
    """VAD verdict for one 20 ms frame: latest speech probability and hysteresis state."""

    prob: float
    speech: bool


class SileroVad:
    """The Silero ONNX model: load once per process, share across calls (run() is thread-safe)."""

    def __init__(self, model_path: Path | str) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise FileNotFoundError(
                f"Silero VAD model not found at {path}; install the silero-vad package or fix the path"
            )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.path = path
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        names = {i.name for i in self.session.get_inputs()}
        if names != {"input", "state", "sr"}:
            raise ValueError(
                f"{path} has inputs {sorted(names)}, not Silero v5 ['input', 'sr', 'state']; "
                "use silero_vad.onnx v5 or later"
            )
        self._sr = np.array(INTERNAL_RATE, dtype=np.int64)

    def infer(self, window: np.ndarray, state: np.ndarray) -> tuple[float, np.ndarray]:
        """Run one [1, CONTEXT + WINDOW] float32 window; return (probability, next state)."""
        out, state_n = self.session.run(None, {"input": window, "state": state, "sr": self._sr})
        return float(out[0, 0]), state_n

    def infer_batch(self, windows: np.ndarray, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run B streams' windows at once: [B, CONTEXT + WINDOW] and states [2, B, 128].

        Returns (probabilities [B], next states [2, B, 128]); each row is what `infer` gives it alone.
        """
        out, state_n = self.session.run(None, {"input": windows, "state": states, "sr": self._sr})
        return out[:, 0], state_n

    def stream(self, *, enter: float = 0.5, leave: float = 0.35) -> VadStream:
        """New per-call stream using this model."""
        return VadStream(self, enter=enter, leave=leave)


class VadStream:
    """Per-call VAD state: recurrent state, 64-sample context, pending samples, hysteresis."""

    __slots__ = ("_context", "_lock", "_model", "_pending", "_prob", "_speech", "_state", "enter", "leave")

    def __init__(self, model: SileroVad, *, enter: float = 0.5, leave: float = 0.35) -> None:
        if not 0.0 <= leave <= enter <= 1.0:
            raise ValueError(f"VAD thresholds need 0 <= leave <= enter <= 1, got leave={leave} enter={enter}")
        self._model = model
        self.enter = enter
        self.leave = leave
        self._lock = threading.Lock()
        self.reset()

    @property
    def speech(self) -> bool:
        """Current hysteresis state."""
        return self._speech

    def reset(self) -> None:
        """Forget all audio heard so far (start of a call or after a long gap)."""
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self._prob = 0.0
        self._speech = False

    def push(self, frame: np.ndarray) -> VadFrame:
        """Feed one 20 ms int16 frame at 16 kHz; run the model on each whole 512-sample window."""
        with self._lock:
            self.append(frame)
            while (window := self.next_window()) is not None:
                self.advance(*self._model.infer(window, self._state))
            return self.verdict()

    def submit(self, frame: np.ndarray, done: Callable[[VadFrame], None]) -> None:
        """`push` on the caller's thread, its verdict handed to `done` at once (VadStreamPort)."""
        done(self.push(frame))

    def close(self) -> None:
        """Nothing to release (VadStreamPort)."""

    # The steps of `push`, for a caller that runs the model itself (agent/audio/vad_worker.py
    # batches many streams' windows into one model call). Not locked: one caller at a time.

    def append(self, frame: np.ndarray) -> None:
        """Queue one frame's samples for the model."""
        if frame.dtype != np.int16:
            raise TypeError(f"expected int16 samples, got {frame.dtype}")
        if frame.size != FRAME_SAMPLES:
            log.debug("vad frame of %d samples (expected %d)", frame.size, FRAME_SAMPLES)
        self._pending = np.concatenate((self._pending, frame.reshape(-1).astype(np.float32) / 32768.0))

    def next_window(self) -> np.ndarray | None:
        """The next whole [1, CONTEXT + WINDOW] model input, or None until enough samples are queued.

        Taking it commits to running it: call `advance` with its result before the next one.
        """
        if len(self._pending) < WINDOW:
            return None
        chunk, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
        window = np.concatenate((self._context, chunk))[np.newaxis, :]
        self._context = chunk[-CONTEXT:]
        return window

    @property
    def state(self) -> np.ndarray:
        """The recurrent state [2, 1, 128] the next window runs with."""
        return self._state

    def advance(self, prob: float, state: np.ndarray) -> None:
        """Take the model's output for the window last taken."""
        self._prob, self._state = float(prob), state

    def verdict(self) -> VadFrame:
        """The hysteresis decision for the frame last appended (latest probability)."""
        if self._speech:
            self._speech = self._prob >= self.leave
        else:
            self._speech = self._prob >= self.enter
        return VadFrame(self._prob, self._speech)
