"""Where a zh-CN decode's time goes: the encoder over the window against the beam decoder.

For every clip of the TSVs (lines of `wav<TAB>reference`, as scripts/zh_asr_eval.py reads) and
each window rule, times the encoder alone (ctranslate2 `encode`) and the whole decode
(`WhisperRecognizer.transcribe`, which encodes again and then decodes), in CPU ms of this
process and wall ms, over the 8 kHz μ-law line. The decoder's share is the difference.

Usage: python scripts/zh_window_cost.py tests/data/zh_asr/aishell1.tsv var/zh-asr/extra.tsv \
           --windows 10,8,6,5,4 --beams 5 --threads 1 [--repeat 2] [--json out/zh_window_cost.json]
A window `N` is whisper.WINDOW_MIN_S = N with the usual 2 s tail after the speech.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import ctranslate2
import numpy as np
from zh_asr_eval import load_tsv
from zh_common import phone_line, print_table, write_json

import agent.asr.whisper as whisper_mod
from agent.asr.whisper import RATE, WhisperRecognizer
from agent.asr.zh_text import cer
from agent.cli.common import settings
from agent.models.resolver import resolve


def _encode_ms(rec: WhisperRecognizer, audio: np.ndarray) -> tuple[float, float]:
    window = max(whisper_mod.WINDOW_MIN_S, len(audio) / RATE + whisper_mod.WINDOW_TAIL_S)
    padded = np.zeros(int(window * RATE), dtype=np.float32)
    padded[: len(audio)] = audio
    t0, c0 = time.perf_counter(), time.process_time()
    features = rec.model.feature_extractor(padded)
    frames = features.shape[-1] // 2 * 2
    view = ctranslate2.StorageView.from_array(
        np.ascontiguousarray(features[None, :, :frames], dtype=np.float32))
    rec.model.model.encode(view, to_cpu=True)
    return (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tsv", nargs="+", type=Path)
    ap.add_argument("--windows", default="10,8,6,5,4")
    ap.add_argument("--beams", default="5")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cfg = settings(None)
    model_dir = resolve("asr-multi", models_dir=cfg.models.dir, overrides=cfg.models.paths).path
    clips = load_tsv(args.tsv)
    print(f"{len(clips)} clips, {sum(len(p) for _, p, _ in clips) / RATE:.1f} s of speech")
    rows, out = [], []
    for beam in [int(b) for b in args.beams.split(",")]:
        rec = WhisperRecognizer(model_dir, "zh", cpu_threads=args.threads, beam_size=beam)
        for w in [float(x) for x in args.windows.split(",")]:
            whisper_mod.WINDOW_MIN_S = w
            enc_cpu, enc_wall, all_cpu, all_wall, edits, chars = [], [], [], [], 0, 0
            for _, pcm, ref in clips:
                audio = phone_line(pcm)
                for _ in range(args.repeat):
                    ew, ec = _encode_ms(rec, audio.astype(np.float32) / 32768.0)
                    t0, c0 = time.perf_counter(), time.process_time()
                    text = rec.transcribe(audio).text
                    all_wall.append((time.perf_counter() - t0) * 1000)
                    all_cpu.append((time.process_time() - c0) * 1000)
                    enc_wall.append(ew)
                    enc_cpu.append(ec)
                e, n = cer(ref, text)
                edits, chars = edits + e, chars + n
            r = {"beam": beam, "window_min_s": w, "cer_ulaw": edits / max(1, chars),
                 "encoder_cpu_ms": statistics.mean(enc_cpu), "decode_cpu_ms": statistics.mean(all_cpu),
                 "encoder_wall_ms": statistics.median(enc_wall),
                 "decode_wall_ms": statistics.median(all_wall)}
            out.append(r)
            rows.append([beam, w, r["cer_ulaw"], round(r["encoder_cpu_ms"]),
                         round(r["decode_cpu_ms"]), round(r["decode_cpu_ms"] - r["encoder_cpu_ms"]),
                         round(r["encoder_wall_ms"]), round(r["decode_wall_ms"])])
            print(rows[-1], flush=True)
    print_table(f"zh-CN decode cost by window (cpu_threads {args.threads}, 8 kHz μ-law, {len(clips)} clips)",
                ["beam", "window min s", "CER μ-law", "encoder CPU ms", "turn CPU ms", "decoder CPU ms",
                 "encoder wall p50", "turn wall p50"], rows)
    write_json(args.json, {"tsv": [str(t) for t in args.tsv], "results": out})


if __name__ == "__main__":
    main()
