"""faster-whisper recogniser tuned for short phone turns: fixed language, no fallback, runner-ups kept.

A final turn decoded with a beam also returns the beam's next-best finished readings
(`Transcript.runner_ups`, engines.asr_runner_ups of them at most), filtered like the best one;
the NLU reads them only to doubt a missed opt-out (agent.nlu.runner_up)."""

from __future__ import annotations

import logging
import re
import time
from difflib import SequenceMatcher
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

from agent.asr.base import Transcript
from agent.asr.zh_text import to_simplified

log = logging.getLogger(__name__)

RATE = 16000
MIN_SPEECH_MS = 100
"""Shorter segments cannot hold a word; whisper would only hallucinate on them."""
MIN_PEAK = 300 / 32768
"""Peak level (float scale) under which a segment is treated as silence without decoding."""
MIN_RMS = 60 / 32768
"""RMS level under which a segment is treated as silence without decoding."""
NO_SPEECH_DROP = 0.6
"""Segments whose no-speech probability exceeds this are dropped when the decode is unsure."""
UNSURE_LOGPROB = -1.0
"""avg_logprob under which a decode counts as unsure (whisper's own default)."""
HALLUCINATION_NO_SPEECH = 0.2
"""Stock silence phrases are dropped when the no-speech probability is above this."""
_HALLUCINATIONS = frozenset(
    {
        "thank you",
        "thanks for watching",
        "thank you for watching",
        "you",
        "bye",
        "please subscribe",
        "thank you very much",
        "so",
        "the end",
        "谢谢",
        "谢谢观看",
        "字幕由amara.org社区提供",
        "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
    }
)
PROMPT_ECHO_RATIO = 0.9
"""Output this similar to a prompt of 6+ characters is the prompt echoed back, not speech.

High on purpose: a real answer often shares most words with the hint ("I already paid it
last week" vs the hint "yes, no, already paid, Friday, next week"), and must survive."""
_PUNCT = re.compile(r"[^\w\s']+", re.UNICODE)


def _normalise(text: str) -> str:
    """Lower-case and strip punctuation, for comparing with stock hallucinations."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def _echoes(text: str, prompt: str) -> bool:
    """True when the decode is (nearly) the whole prompt repeated back, a whisper failure on unclear audio."""
    if len(prompt) < 6 or len(text) < PROMPT_ECHO_RATIO * len(prompt):
        return False
    return SequenceMatcher(None, text, prompt).ratio() >= PROMPT_ECHO_RATIO


COVERAGE_MIN_VOICED_S = 1.2
"""Shorter speech is not checked for coverage: one word is a complete answer."""
MIN_UNITS_PER_VOICED_S = {"zh": 1.5, "ja": 1.5}
"""Characters (zh) or words (others, MIN_WORDS_PER_VOICED_S) a decode must hold per second of
voiced audio, else it stopped early (a prompt can make whisper end after the first phrase)
and the turn is decoded again without the prompt. Mandarin is read at 3-5 characters/s."""
MIN_WORDS_PER_VOICED_S = 0.6
_FRAME = 480  # 30 ms at 16 kHz
VOICED_BELOW_PEAK_DB = 35.0
"""A 30 ms frame counts as voiced when its level is within this of the turn's loud frames."""
_SENTENCE_END = "。．.!?！？"


def voiced_seconds(audio: np.ndarray) -> float:
    """Seconds of 30 ms frames loud enough to be speech (relative to the turn's own level)."""
    n = len(audio) // _FRAME
    if n == 0:
        return 0.0
    rms = np.sqrt(np.mean(audio[: n * _FRAME].reshape(n, _FRAME) ** 2, axis=1) + 1e-12)
    level = 20 * np.log10(rms)
    floor = max(float(np.percentile(level, 95)) - VOICED_BELOW_PEAK_DB, 20 * np.log10(MIN_RMS))
    return float(np.count_nonzero(level > floor)) * _FRAME / RATE


def _units(text: str, language: str) -> int:
    stripped = _PUNCT.sub(" ", text)
    if language in MIN_UNITS_PER_VOICED_S:
        return len("".join(stripped.split()))
    return len(stripped.split())


def covers(text: str, audio: np.ndarray, language: str) -> bool:
    """False when the decode is far too short for the speech in the audio (a truncated decode)."""
    voiced = voiced_seconds(audio)
    if voiced < COVERAGE_MIN_VOICED_S:
        return True
    rate = MIN_UNITS_PER_VOICED_S.get(language, MIN_WORDS_PER_VOICED_S)
    return _units(text, language) >= rate * voiced


def prompt_text(hint: str, language: str) -> str:
    """A zh hint as whisper's prompt: a list, never a finished sentence (a full stop ends decodes early)."""
    text = hint.strip()
    if language not in ("zh", "ja"):
        return text  # measured for Mandarin only; English hints are left as they were
    return text.replace(", ", "，").replace(",", "，").rstrip(_SENTENCE_END + " ")


WINDOW_MIN_S = 10.0
"""Shortest audio window encoded for one turn (speech padded with silence).

Whisper is trained on 30 s windows and faster-whisper always encodes 30 s, which costs
tiny.en ~330 ms per turn whatever the turn's length. The encoder accepts shorter inputs:
a 10 s window costs ~80 ms. Below ~6 s of window whisper stops emitting end-of-text and
repeats the sentence, so 10 s leaves a margin (measured on Piper speech, wideband and
8 kHz mu-law; tests/engines/test_asr.py checks both paths agree)."""
WINDOW_TAIL_S = 2.0  # silence kept after the speech inside the window
MAX_NEW_TOKENS = 96


_SEP = r"[\s,，.。!?！？、;；]"
_REPEATED = re.compile(rf"([^\W\d].{{1,40}}?)(?:{_SEP}*\1){{2,}}", re.UNICODE)  # 3+ copies
_REPEATED_PHRASE = re.compile(rf"([^\W\d].{{9,80}}?)(?:{_SEP}+\1)+", re.UNICODE | re.IGNORECASE)  # 2+ long
TOKENS_PER_SECOND = 8  # speech is < 5 tokens/s; a decode far beyond that is whisper looping


def _collapse_repeats(text: str) -> str:
    """'yes, speaking, speaking, speaking' -> 'yes, speaking': whisper looping, never speech.

    Three or more back-to-back copies of the same words become one, and so do two copies
    of a phrase of ten characters or more ('yes, this is John. Yes, this is John.').
    """
    return _REPEATED_PHRASE.sub(r"\1", _REPEATED.sub(r"\1", text.strip()))


def _to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 or float audio → contiguous float32 in [-1, 1]."""
    if pcm.dtype == np.int16:
        return pcm.reshape(-1).astype(np.float32) / 32768.0
    if np.issubdtype(pcm.dtype, np.floating):
        return np.ascontiguousarray(pcm.reshape(-1), dtype=np.float32)
    raise TypeError(f"expected int16 or float32 samples, got {pcm.dtype}")


class WhisperRecognizer:
    """One loaded faster-whisper model; thread-safe, num_workers jobs may decode at once."""

    def __init__(
        self,
        model_path: Path | str,
        language: str,
        *,
        cpu_threads: int = 1,
        compute_type: str = "int8",
        num_workers: int = 1,
        default_prompt: str | None = None,
        hint_mode: str = "prompt",
        beam_size: int = 1,
        check_coverage: bool | None = None,
        runner_ups: int = 0,
        window_min_s: float | None = None,
    ) -> None:
        """`runner_ups`: next-best readings a final beam decode keeps (at most beam_size - 1; 0: none)."""
        if hint_mode not in ("prompt", "hotwords"):
            raise ValueError(f"hint_mode must be 'prompt' or 'hotwords', got {hint_mode!r}")
        self.language = language
        self.model_path = Path(model_path)
        self.default_prompt = prompt_text(default_prompt, language) if default_prompt else None
        self.hint_mode = hint_mode
        self.beam_size = beam_size
        self.runner_ups = max(0, min(runner_ups, beam_size - 1))
        self.window_min_s = window_min_s  # None: the module's WINDOW_MIN_S, read at each decode
        # measured on Mandarin only (scripts/zh_asr_eval.py); English decodes are left as they were
        self.check_coverage = language in MIN_UNITS_PER_VOICED_S if check_coverage is None else check_coverage
        self.retries = 0  # decodes repeated without the prompt because the first did not cover the speech
        started = time.perf_counter()
        self.model = WhisperModel(
            str(self.model_path),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=num_workers,
            local_files_only=True,
        )
        self.tokenizer = Tokenizer(
            self.model.hf_tokenizer,
            self.model.model.is_multilingual,
            task="transcribe",
            language=language if self.model.model.is_multilingual else None,
        )
        self.load_ms = int((time.perf_counter() - started) * 1000)
        self._warm_up()
        log.info("whisper %s (%s) loaded in %d ms", self.model_path.name, language, self.load_ms)

    def window_s(self) -> float:
        """Shortest window encoded for one turn (engines.zh_asr_window_s for zh, else WINDOW_MIN_S)."""
        return WINDOW_MIN_S if self.window_min_s is None else self.window_min_s

    def _warm_up(self) -> None:
        """Run one decode so the first real turn does not pay for lazy initialisation."""
        t = np.arange(RATE // 2, dtype=np.float32) / RATE
        tone = 0.1 * np.sin(2 * np.pi * 440.0 * t).astype(np.float32)
        audio = np.concatenate((np.zeros(RATE // 4, dtype=np.float32), tone))
        segments, _ = self.model.transcribe(audio, **self._options(None))
        for _ in segments:
            pass
        self._decode_window(audio, None)

    def _options(self, hint: str | None) -> dict[str, object]:
        """Decode options: greedy, fixed language, no timestamps, no fallback, no history."""
        prompt = hint or self.default_prompt
        opts: dict[str, object] = {
            "language": self.language,
            "beam_size": self.beam_size,
            "best_of": 1,
            "temperature": 0.0,
            "without_timestamps": True,
            "condition_on_previous_text": False,
            "vad_filter": False,
            "no_speech_threshold": NO_SPEECH_DROP,
            "log_prob_threshold": UNSURE_LOGPROB,
            "compression_ratio_threshold": None,
            "max_new_tokens": 96,
        }
        if prompt:
            prompt = prompt_text(prompt, self.language)
            opts["hotwords" if self.hint_mode == "hotwords" and hint else "initial_prompt"] = prompt
        return opts

    def _decode_window(
        self, audio: np.ndarray, prompt: str | None, beam_size: int = 1, runner_ups: int = 0
    ) -> tuple[str, float, float, int, tuple[str, ...]]:
        """Decode one turn in a short window: (text, avg_logprob, no_speech_prob, tokens, runner-up texts).

        The runner-ups are the beam's next finished hypotheses, best first (raw, unfiltered); the
        beam search runs the same either way, so asking for them costs only their detokenising."""
        window = max(self.window_s(), len(audio) / RATE + WINDOW_TAIL_S)
        padded = np.zeros(int(window * RATE), dtype=np.float32)
        padded[: len(audio)] = audio
        features = self.model.feature_extractor(padded)
        frames = features.shape[-1] // 2 * 2  # the encoder's conv stride is 2
        encoder_input = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(features[None, :, :frames], dtype=np.float32)
        )
        previous = self.tokenizer.encode(" " + prompt.strip()) if prompt else []
        tokens_in = self.model.get_prompt(self.tokenizer, previous, without_timestamps=True)
        result = self.model.model.generate(
            encoder_input,
            [tokens_in],
            beam_size=beam_size,
            num_hypotheses=1 + min(runner_ups, beam_size - 1),
            max_length=len(tokens_in) + min(MAX_NEW_TOKENS, int(len(audio) / RATE * TOKENS_PER_SECOND) + 16),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        others = tuple(self.tokenizer.decode(ids) for ids in result.sequences_ids[1:])
        return self.tokenizer.decode(tokens), avg_logprob, result.no_speech_prob, len(tokens), others

    def transcribe(self, pcm16k: np.ndarray, hint: str | None = None, partial: bool = False) -> Transcript:
        """Transcribe one segment of 16 kHz audio; non-speech yields empty text."""
        started = time.perf_counter()
        audio = _to_float(pcm16k)
        audio_ms = len(audio) * 1000 // RATE

        def result(text: str, confidence: float, runner_ups: tuple[str, ...] = ()) -> Transcript:
            compute_ms = int((time.perf_counter() - started) * 1000)
            return Transcript(text, self.language, confidence, audio_ms, compute_ms, partial, runner_ups)

        if audio_ms < MIN_SPEECH_MS or not len(audio):
            return result("", 0.0)
        if float(np.abs(audio).max()) < MIN_PEAK or float(np.sqrt(np.mean(audio**2))) < MIN_RMS:
            return result("", 0.0)
        prompt_used = prompt_text(hint, self.language) if hint else self.default_prompt
        beam = 1 if partial else self.beam_size  # running transcripts stay greedy: they are many and cheap
        keep = 0 if partial else self.runner_ups  # the doubt path reads final turns only
        text, confidence, others = self._recognise(audio, hint, prompt_used, beam=beam, runner_ups=keep)
        if (
            self.check_coverage
            and prompt_used
            and not partial
            and not covers(text, audio, self.language)
        ):
            self.retries += 1
            again, again_conf, again_others = self._recognise(
                audio, None, None, beam=beam, use_default=False, runner_ups=keep
            )
            if _units(again, self.language) > _units(text, self.language):
                log.debug("decode %r did not cover the speech; without the prompt: %r", text, again)
                text, confidence, others = again, again_conf, again_others
        return result(text, confidence, others)

    def _recognise(
        self, audio: np.ndarray, hint: str | None, prompt_used: str | None, *, beam: int = 1,
        use_default: bool = True, runner_ups: int = 0,
    ) -> tuple[str, float, tuple[str, ...]]:
        """Decode, drop hallucinations and prompt echoes, to Simplified: (text, confidence, runner-ups)."""
        prompt = _normalise(prompt_used or "")
        others: tuple[str, ...] = ()
        if len(audio) / RATE + WINDOW_TAIL_S <= 30.0:
            raw, avg_logprob, no_speech_prob, n_tokens, others = self._decode_window(
                audio, prompt_used, beam, runner_ups
            )
            decoded = [(raw, avg_logprob, no_speech_prob, n_tokens)]
        else:  # a very long turn: faster-whisper's own 30 s windowing
            opts = self._options(hint)
            if not use_default:
                opts.pop("initial_prompt", None)
                opts.pop("hotwords", None)
            segments, _ = self.model.transcribe(audio, **opts)
            decoded = [(seg.text, seg.avg_logprob, seg.no_speech_prob, len(seg.tokens)) for seg in segments]
        texts: list[str] = []
        weights: list[tuple[float, float, int]] = []
        for raw, avg_logprob, no_speech_prob, n_tokens in decoded:
            text = self._clean(raw)
            if not text:
                continue
            if no_speech_prob > NO_SPEECH_DROP and avg_logprob < UNSURE_LOGPROB:
                continue
            if not self._plausible(text, no_speech_prob, prompt):
                continue
            texts.append(text)
            weights.append((avg_logprob, no_speech_prob, max(1, n_tokens)))
        if not texts:
            return "", 0.0, ()
        n = sum(w for _, _, w in weights)
        avg_logprob = sum(lp * w for lp, _, w in weights) / n
        no_speech = max(ns for _, ns, _ in weights)
        confidence = float(np.clip(np.exp(avg_logprob) * (1.0 - no_speech), 0.0, 1.0))
        sep = "" if self.language in ("zh", "ja") else " "
        best = sep.join(texts)
        seen = {best.lower()}
        kept: list[str] = []
        for raw in others if len(texts) == 1 else ():
            other = self._clean(raw)
            if other and other.lower() not in seen and self._plausible(other, no_speech, prompt, quiet=True):
                seen.add(other.lower())
                kept.append(other)
        return best, confidence, tuple(kept)

    def _clean(self, raw: str) -> str:
        """A decoded text with whisper's loops collapsed, in Simplified characters for Mandarin."""
        text = _collapse_repeats(raw.strip())
        return to_simplified(text) if self.language == "zh" else text  # whisper often writes Traditional

    @staticmethod
    def _plausible(text: str, no_speech_prob: float, prompt: str, *, quiet: bool = False) -> bool:
        """False for a stock silence phrase on doubtful audio, or the prompt echoed back."""
        if no_speech_prob > HALLUCINATION_NO_SPEECH and _normalise(text) in _HALLUCINATIONS:
            if not quiet:
                log.debug("dropped likely hallucination %r (no_speech=%.2f)", text, no_speech_prob)
            return False
        if _echoes(_normalise(text), prompt):
            if not quiet:
                log.debug("dropped prompt echo %r", text)
            return False
        return True
