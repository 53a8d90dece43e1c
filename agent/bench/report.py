"""The rich table printed at the end of a bench run."""

from __future__ import annotations

from typing import Any

from rich.table import Table


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def table(result: dict[str, Any]) -> Table:
    """One row per concurrency level: latency percentiles, audio health, CPU and memory."""
    t = Table(title="voice-agent bench (ms unless noted)", title_justify="left")
    for col in ("calls at once", "ok/calls", "v2v p50", "v2v p95", "srv v2v p50", "endpoint p50",
                "asr p50", "asr wait p50", "reply p50", "barge-in p95", "opt-out p95",
                "1st audio p95", "turn gap max", "dtmf stop p95",
                "underruns", "late frames", "srv CPU %", "srv RSS MiB"):
        t.add_column(col, justify="right")
    for lv in result["levels"]:
        parts = lv["parts_ms"]
        opt = lv["opt_out_client_ms"]["p95"]
        t.add_row(
            str(lv["concurrency"]),
            f"{lv['calls_ok']}/{lv['calls']}",
            _ms(lv["voice_to_voice_ms"]["p50"]),
            _ms(lv["voice_to_voice_ms"]["p95"]),
            _ms(lv["server_voice_to_voice_ms"]["p50"]),
            _ms(parts["endpoint_ms"]["p50"]),
            _ms(parts["asr_ms"]["p50"]),
            _ms(parts["asr_wait_ms"]["p50"]),
            _ms(parts["reply_ms"]["p50"]),
            _ms(lv["barge_in_ms"]["p95"]),
            _ms(opt),
            _ms(lv["first_audio_ms"]["p95"]),
            f"{_ms(lv['turn_gap_ms']['max'])} (srv {_ms(lv['server_turn_gap_ms']['max'])})",
            _ms(lv["dtmf_stop_ms"]["p95"]),
            "–" if lv["underruns_total"] is None
            else f"{lv['underruns_total']} ({lv['calls_with_underrun']} calls)",
            f"{lv['late_frames_total']} ({lv['calls_with_late_frames']} calls)",
            f"{lv['server_cpu_avg_pct']:.0f} (peak {lv['server_cpu_peak_pct']:.0f})",
            f"{lv['server_peak_rss_mb']:.0f}",
        )
    mem = result["memory"]
    per_call = mem["rss_per_call_mb"]
    t.caption = (
        f"server RSS idle {mem['idle_rss_mb']:.0f} MiB, after warm-up {mem['warm_rss_mb']:.0f} MiB, "
        f"peak {mem['peak_rss_mb']:.0f} MiB; "
        f"{'–' if per_call is None else f'{per_call:.1f}'} MiB per extra call (slope of peak RSS). "
        "CPU % is of one core (200 % = 2 cores). opt-out = end of utterance → opt_out event at the client. "
        f"Calls after the cold start: first audio {result.get('cold_start', {}).get('first_audio_ms')} ms."
    )
    return t



MD_COLUMNS = ("calls at once", "ok", "v2v p50", "v2v p95", "endpoint p50", "ASR p50", "ASR wait p50",
              "reply p50", "barge-in p95", "opt-out p95 (persist p95)", "first audio p95", "turn gap max",
              "DTMF stop p95", "underruns (calls)", "late frames",
              "server CPU % avg (peak)", "server RSS MiB")


def markdown(result: dict[str, Any]) -> str:
    """The same figures as a Markdown table (for docs/performance.md)."""
    rows = ["| " + " | ".join(MD_COLUMNS) + " |", "|" + "---|" * len(MD_COLUMNS)]
    for lv in result["levels"]:
        p, v2v = lv["parts_ms"], lv["voice_to_voice_ms"]
        cells = [
            str(lv["concurrency"]), f"{lv['calls_ok']}/{lv['calls']}", _ms(v2v["p50"]), _ms(v2v["p95"]),
            _ms(p["endpoint_ms"]["p50"]), _ms(p["asr_ms"]["p50"]), _ms(p["asr_wait_ms"]["p50"]),
            _ms(p["reply_ms"]["p50"]), _ms(lv["barge_in_ms"]["p95"]),
            f"{_ms(lv['opt_out_client_ms']['p95'])} ({_ms(lv['opt_out_persist_ms']['p95'])})",
            _ms(lv["first_audio_ms"]["p95"]), _ms(lv["turn_gap_ms"]["max"]), _ms(lv["dtmf_stop_ms"]["p95"]),
            f"{lv['underruns_total']} ({lv['calls_with_underrun']})", str(lv["late_frames_total"]),
            f"{lv['server_cpu_avg_pct']:.0f} ({lv['server_cpu_peak_pct']:.0f})",
            f"{lv['server_peak_rss_mb']:.0f}",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)
