"""Speech synthesis: a small protocol, Piper (neural) and espeak-ng (zh-CN fallback)."""

from agent.tts.base import Speech, SpeechSynthesizer, split_sentences

__all__ = ["Speech", "SpeechSynthesizer", "split_sentences"]
