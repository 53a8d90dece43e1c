"""Speech recognition: a small protocol and the faster-whisper implementation."""

from agent.asr.base import SpeechRecognizer, Transcript

__all__ = ["SpeechRecognizer", "Transcript"]
