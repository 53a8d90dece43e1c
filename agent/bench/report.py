"""The rich table printed at the end of a bench run."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from agent.bench.stats import summary


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
            f"{_ms(lv['first_audio_ms']['p95'])} (srv {_ms(lv.get('server_first_audio_ms', {}).get('p95'))})",
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


FIRST_AUDIO_TARGET_MS = 300  # issue 11: time to first agent audio, p95, the first call after a start included
TURN_GAP_TARGET_MS = 150  # issue 11: no silence longer than this inside an agent turn


def cold_start_row(result: dict[str, Any]) -> dict[str, Any]:
    """One locale's start-up figures: the first call after a fresh server, later calls, gaps."""
    cold = result.get("cold_start", {})
    firsts = cold.get("first_audio_ms") or []
    later = result.get("later_first_audio_ms") or {}
    records = [r for lv in result["levels"] for r in lv["call_records"]]
    gaps = [*cold.get("turn_gap_ms", []), *(g for r in records for g in r.get("turn_gap_ms", []))]
    every_first = [f for f in [*firsts, *(r.get("first_audio_ms") for r in records)] if f is not None]
    first_call = firsts[0] if firsts else None
    return {
        "locale": result["meta"]["options"]["locale"],
        "ready_s": result["meta"].get("server_load_s"),
        "warm_up_s": result["meta"].get("server_warm_up_s"),
        "first_call_first_audio_ms": first_call,
        "later_first_audio_p95_ms": later.get("p95"),
        "later_calls": later.get("n", 0),
        "turn_gap_max_ms": max(gaps) if gaps else None,
        "first_audio_ok": bool(every_first) and max(every_first) <= FIRST_AUDIO_TARGET_MS,
        "turn_gap_ok": bool(gaps) and max(gaps) <= TURN_GAP_TARGET_MS,
    }


def cold_start_table(results: list[dict[str, Any]]) -> Table:
    """Per locale: a fresh server's first call against the targets of issue 11."""
    t = Table(title="cold start (a fresh server per locale; ms unless noted)", title_justify="left")
    for col in ("locale", "ready s (warm-up s)", "1st call: first audio", "later calls: first audio p95",
                f"first audio ≤ {FIRST_AUDIO_TARGET_MS}", "turn gap max (all calls)",
                f"gaps ≤ {TURN_GAP_TARGET_MS}"):
        t.add_column(col, justify="right")
    for result in results:
        row = cold_start_row(result)
        t.add_row(row["locale"], f"{row['ready_s']} ({row['warm_up_s']})",
                  _ms(row["first_call_first_audio_ms"]),
                  f"{_ms(row['later_first_audio_p95_ms'])} (n={row['later_calls']})",
                  "yes" if row["first_audio_ok"] else "NO", _ms(row["turn_gap_max_ms"]),
                  "yes" if row["turn_gap_ok"] else "NO")
    t.caption = ("first audio: call connected → first agent audio heard (client side), every call "
                 "counted, the first after the start included; gap: longest silence inside an agent turn "
                 "(client side).")
    return t


def gap_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per locale and level (and the cold-start calls): the longest silences inside agent turns."""
    rows = []
    for result in results:
        locale = result["meta"]["options"]["locale"]
        cold = result.get("cold_start", {})
        if cold.get("turn_gap_worst"):
            gaps = [g for per_call in cold.get("turn_gaps_ms") or [] for g in per_call or []]
            rows.append({"locale": locale, "level": "cold", "loadavg": result["meta"].get("loadavg_before"),
                         "gap_ms": summary(gaps), "worst": cold["turn_gap_worst"]})
        for lv in result["levels"]:
            rows.append({"locale": locale, "level": str(lv["concurrency"]),
                         "loadavg": (lv.get("loadavg") or {}).get("before"),
                         "gap_ms": lv["turn_gap_ms"], "worst": lv.get("turn_gap_worst") or {}})
    return rows


def gap_table(results: list[dict[str, Any]]) -> Table:
    """The longest silence inside each agent turn, per locale and level: p50/p95/max, the worst's place."""
    title = f"gaps inside agent turns (target: none over {TURN_GAP_TARGET_MS} ms)"
    t = Table(title=title, title_justify="left")
    for col in ("locale", "calls at once", "load avg 1/5/15", "turns", "p50", "p95", "max", "srv max",
                "worst: where (say_id: 'unit before' | 'unit after')"):
        t.add_column(col, justify="left" if col.startswith("worst") else "right")
    for row in gap_rows(results):
        gap, worst, load = row["gap_ms"], row["worst"], row["loadavg"]
        t.add_row(row["locale"], row["level"], "–" if not load else "/".join(f"{x:.1f}" for x in load),
                  str(gap.get("n", 0)), _ms(gap.get("p50")), _ms(gap.get("p95")), _ms(gap.get("max")),
                  _ms(worst.get("server_ms")), f"{worst.get('at') or '–'} ({worst.get('scenario') or '–'})")
    t.caption = ("per agent turn, its longest silence heard by the client; srv max and where: the server "
                 "playout's own figure and label of its longest gap ('inside' a unit: the playout was late, "
                 "not the synthesis)")
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
