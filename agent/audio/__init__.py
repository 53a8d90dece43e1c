"""Audio plumbing: exact G.711/L16 codecs, band-limited resampling, 20 ms framing, VAD."""

from agent.audio.codecs import (
    ALAW_SILENCE,
    ULAW_SILENCE,
    alaw_decode,
    alaw_encode,
    l16be_decode,
    l16be_encode,
    l16le_decode,
    l16le_encode,
    ulaw_decode,
    ulaw_encode,
)
from agent.audio.frames import (
    FRAME_BYTES,
    FRAME_MS,
    FRAME_SAMPLES,
    INTERNAL_RATE,
    Framer,
    frame_samples,
    split_frames,
)
from agent.audio.resample import StreamResampler, resample

__all__ = [
    "ALAW_SILENCE",
    "FRAME_BYTES",
    "FRAME_MS",
    "FRAME_SAMPLES",
    "INTERNAL_RATE",
    "ULAW_SILENCE",
    "Framer",
    "StreamResampler",
    "alaw_decode",
    "alaw_encode",
    "frame_samples",
    "l16be_decode",
    "l16be_encode",
    "l16le_decode",
    "l16le_encode",
    "resample",
    "split_frames",
    "ulaw_decode",
    "ulaw_encode",
]
