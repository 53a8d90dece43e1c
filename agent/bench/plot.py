"""The PNG chart: latency percentiles against concurrent calls, and where the time goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGETS = {"v2v p50, 1 call": 450, "v2v p95, 1 call": 800, "v2v p95, 8 calls": 1000, "barge-in p95": 250}


def draw(result: dict[str, Any], path: Path) -> None:
    """Left: v2v p50/p95 and barge-in p95 per level with the SPEC 11 targets; right: median parts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = result["levels"]
    xs = [lv["concurrency"] for lv in levels]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))

    def series(key: str, pct: str) -> list[float]:
        return [lv[key][pct] if lv[key][pct] is not None else float("nan") for lv in levels]

    left.plot(xs, series("voice_to_voice_ms", "p50"), "o-", label="voice-to-voice p50")
    left.plot(xs, series("voice_to_voice_ms", "p95"), "s-", label="voice-to-voice p95")
    left.plot(xs, series("barge_in_ms", "p95"), "^-", label="barge-in p95")
    left.plot(xs, series("opt_out_client_ms", "p95"), "d-", label="opt-out p95", alpha=0.7)
    for (name, ms), style in zip(TARGETS.items(), (":", "--", "-.", ":"), strict=True):
        left.axhline(ms, linestyle=style, color="grey", linewidth=0.8)
        left.annotate(f"target {name}", (xs[-1], ms), fontsize=7, color="grey", ha="right",
                      xytext=(-2, 2), textcoords="offset points")
    left.set_xlabel("concurrent calls")
    left.set_ylabel("ms")
    left.set_xticks(xs)
    left.set_ylim(bottom=0)
    left.set_title("latency vs concurrent calls")
    left.legend(fontsize=8)

    parts = [("endpoint_ms", "endpoint wait"), ("asr_wait_ms", "ASR after endpoint"),
             ("nlu_ms", "NLU"), ("reply_ms", "dialogue + TTS/cache + first frame"),
             ("wire_ms", "VAD lag + loopback")]
    bottom = [0.0] * len(levels)
    labels = [str(x) for x in xs]
    for key, name in parts:
        vals = [max(0.0, lv["parts_ms"][key]["p50"] or 0.0) for lv in levels]
        right.bar(labels, vals, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    right.set_xlabel("concurrent calls")
    right.set_ylabel("ms (median of each part)")
    right.set_title("where voice-to-voice goes (medians)")
    right.legend(fontsize=8)
    meta = result["meta"]
    fig.suptitle(f"voice-agent bench: {meta['cpu_count']} CPUs, load avg before {meta['loadavg_before'][0]}",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
