"""`voice-agent bench`, tiny: one real call through a server subprocess; the JSON has its keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.models]

LEVEL_KEYS = {
    "concurrency", "calls", "calls_ok", "outcomes", "wall_s", "voice_to_voice_ms", "server_voice_to_voice_ms",
    "parts_ms", "fast_endpoint_share", "barge_in_ms", "opt_out_persist_ms", "opt_out_client_ms",
    "underruns_total", "calls_with_underrun", "late_frames_total", "calls_with_late_frames",
    "server_cpu_avg_pct", "server_cpu_peak_pct", "server_peak_rss_mb", "client_cpu_avg_pct", "call_records",
    "first_audio_ms", "turn_gap_ms", "server_turn_gap_ms", "dtmf_stop_ms",
}


def test_one_call_bench_writes_json_and_png(tmp_path: Path) -> None:
    out, png = tmp_path / "bench.json", tmp_path / "bench.png"
    cmd = [sys.executable, "-c", "from agent.cli import main; main()", "bench", "--concurrency", "1",
           "--calls", "1", "--warmup", "0", "--scenario", "opt_out", "--json", str(out), "--plot", str(png)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert {"meta", "memory", "levels", "cold_start"} <= result.keys()
    assert {"idle_rss_mb", "warm_rss_mb", "peak_rss_mb", "rss_per_call_mb"} <= result["memory"].keys()
    assert 100 < result["memory"]["idle_rss_mb"] < 4000
    (level,) = result["levels"]
    assert LEVEL_KEYS <= level.keys()
    assert level["concurrency"] == 1 and level["calls"] == 1
    assert level["calls_ok"] == 1, level["call_records"]
    v2v = level["voice_to_voice_ms"]
    assert v2v["n"] >= 1 and 0 < v2v["p50"] <= v2v["p95"] < 10_000
    assert set(level["parts_ms"]) >= {"endpoint_ms", "asr_ms", "asr_wait_ms", "nlu_ms", "reply_ms"}
    assert level["opt_out_persist_ms"]["n"] == 1 and 0 <= level["opt_out_persist_ms"]["p50"] < 5_000
    assert level["opt_out_client_ms"]["n"] == 1 and 0 < level["opt_out_client_ms"]["p50"] < 10_000
    assert level["underruns_total"] is not None and level["underruns_total"] >= 0
    assert level["first_audio_ms"]["n"] == 1 and 0 < level["first_audio_ms"]["p50"] < 30_000
    assert 0 < level["server_cpu_avg_pct"] < 400
    assert level["server_peak_rss_mb"] >= result["memory"]["idle_rss_mb"] * 0.9
    assert png.stat().st_size > 1000
