"""Drive simulated calls at several concurrency levels through a real server and measure them.

The server runs in its own process (proc.ServerProcess). The simulated customers
(agent.demo.customer.SimulatedCustomer) run here: each speaks real Piper audio, paced in
real time in 20 ms frames, and listens to the agent in real time. Their speech is
synthesised once, up front, so the client costs little CPU during the measurement.

Per concurrency level C the bench runs `calls` calls (at least C) with C in flight at
once; the first C start `stagger_ms` apart, later ones when a slot frees, so the turns of
different calls do not line up.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np

from agent.bench.audio import first_audio_ms, stopped_after_ms, stretches, turn_gaps_ms
from agent.bench.load import Burners, nice_level
from agent.bench.proc import ServerProcess, Window, rss_mb
from agent.bench.stats import slope, summary
from agent.demo.customer import SimulatedCustomer
from agent.demo.links import make_link
from agent.demo.runner import request_call, synthesize_lines
from agent.demo.scenarios import SCENARIOS, Scenario

LATE_GAP_S = 0.3  # agent audio resuming less than this after the client's buffer ran dry is a late frame
LATE_MIN_S = 0.02  # ... and more than one frame (smaller gaps are loopback jitter a gateway buffer absorbs)
PARTS = ("endpoint_ms", "asr_wait_ms", "asr_ms", "nlu_ms", "reply_ms", "wire_ms")


@dataclass
class BenchOptions:
    """What to run; see `voice-agent bench --help`."""

    concurrency: list[int] = field(default_factory=lambda: [1, 4, 8, 16])
    calls: int | None = None  # calls per level (at least the level's concurrency); default max(C, 3)
    scenarios: list[str] = field(
        default_factory=lambda: ["happy_path", "barge_in", "opt_out", "dtmf_opt_out"]
    )
    locale: str = "en-US"
    use_case: str = "repayment_reminder"
    stagger_ms: int = 300
    warmup: int = 1  # calls played (and discarded) before the first level
    config: Path | None = None
    server_env: dict[str, str] = field(default_factory=dict)  # e.g. VOICE_AGENT_ENGINES__POOL_WORKERS=3
    max_call_s: float = 120.0
    fresh_tts_cache: bool = False  # the server gets an empty TTS disk cache: a first-ever start
    loopwatch: Path | None = None  # report of what the event loop ran while late (bench/loopwatch.py)
    burn: int = 0  # CPU-burning processes beside the server while measuring (a loaded box; bench/load.py)


class BenchCustomer(SimulatedCustomer):
    """The demo's customer, also counting late agent audio and noting when its speech ended."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.late_frames = 0
        self.late_ms = 0.0
        self.chunks = 0
        self.speech_ends_ms: list[int] = []
        self.clears_ms: list[int] = []
        self._had_audio = False

    def on_agent_audio(self, t: float) -> None:
        dry = t - self.link.playing_until()  # > 0: the customer's playout buffer had run dry
        if self._had_audio and LATE_MIN_S < dry < LATE_GAP_S:
            self.late_frames += 1
            self.late_ms += dry * 1000
        self._had_audio = True
        self.chunks += 1
        super().on_agent_audio(t)

    def on_clear(self, t: float) -> None:
        self.clears_ms.append(self._ms(t))
        super().on_clear(t)
        self._had_audio = False  # audio after a clear is a new utterance, not a late frame

    async def _speak(self, text: str, *, barging: bool) -> None:
        await super()._speak(text, barging=barging)
        end = getattr(self, "_speech_end_at", None)
        self.speech_ends_ms.append(self._ms(end) if end is not None else self._ms())


async def _call_timings(http: httpx.AsyncClient, call_id: str | None) -> dict[str, Any]:
    """The server's own record of the call (underruns, duration), once it has been written."""
    if not call_id:
        return {}
    for _ in range(20):
        try:
            reply = await http.get(f"/v1/calls/{call_id}")
            if reply.status_code == 200 and reply.json().get("status") == "finished":
                return dict(reply.json().get("timings") or {})
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    return {}


def _turn_parts(event: dict[str, Any], client_v2v: int | None) -> dict[str, Any]:
    """One answered turn split into its parts (server clock) plus the wire/VAD offset."""
    v2v = int(event["voice_to_voice_ms"])
    endpoint, asr_wait, nlu = int(event["endpoint_ms"]), int(event["asr_wait_ms"]), int(event["nlu_ms"])
    parts = {
        "voice_to_voice_ms": v2v,
        "endpoint_ms": endpoint,
        "asr_wait_ms": asr_wait,
        "asr_ms": int(event["asr_ms"]),
        "nlu_ms": nlu,
        # what is left: dialogue step, TTS or cache lookup, first frame out of the playout
        "reply_ms": max(0, v2v - endpoint - asr_wait - nlu),
        "fast_endpoint": bool(event.get("fast_endpoint")),
    }
    if client_v2v is not None:
        # client-side minus server-side: VAD speech-end lag + loopback + client scheduling
        parts["wire_ms"] = client_v2v - v2v
    return parts


async def play_call(
    base: str, port: int, api_key: str, scenario: Scenario, speech: dict[str, np.ndarray],
    number: int, opts: BenchOptions, http: httpx.AsyncClient,
) -> dict[str, Any]:
    """Place one call through the gate and play it; returns its measurements."""
    started = time.monotonic()
    record: dict[str, Any] = {"scenario": scenario.name, "number": number}
    try:
        grant = await request_call(base, api_key, opts.locale, opts.use_case, number)
        link = make_link("native", f"ws://127.0.0.1:{port}", grant["call_id"], grant["token"])
        customer = BenchCustomer(link, scenario, speech, max_call_s=opts.max_call_s)
        log = await customer.run()
    except Exception as exc:  # noqa: BLE001 - a failed call is a result, not a crash of the bench
        record.update(outcome="error", error=f"{type(exc).__name__}: {exc}", ok=False,
                      duration_s=round(time.monotonic() - started, 2))
        return record
    turns = [e for e in log.events if e.get("type") == "turn"]
    client_v2v = list(log.voice_to_voice_ms)
    parts = [_turn_parts(e, client_v2v[i] if i < len(client_v2v) else None) for i, e in enumerate(turns)]
    opt_out_client: list[int] = []
    for event in log.events:
        if event.get("type") == "opt_out":
            ends = [t for t in customer.speech_ends_ms if t <= event["ms"]]
            if ends:
                opt_out_client.append(int(event["ms"]) - ends[-1])
    call_id = log.call_id or grant["call_id"]
    timings = await _call_timings(http, call_id)
    heard = stretches(log.played)
    played = [e for e in log.events if e.get("type") == "played"]
    moments = [float(a["ms"]) for a in log.said] + [float(c) for c in customer.clears_ms]
    moments += [float(e["ms"]) for e in played]
    record.update(
        call_id=call_id,
        outcome=log.outcome or "no_hangup",
        expected=scenario.expected_outcome,
        ok=(log.outcome == scenario.expected_outcome),
        duration_s=round(time.monotonic() - started, 2),
        voice_to_voice_ms=client_v2v,
        turns=parts,
        barge_in_ms=list(log.barge_in_ms),
        opt_out_persist_ms=[e.get("persisted_ms") for e in log.events if e.get("type") == "opt_out"],
        opt_out_client_ms=opt_out_client,
        underruns=timings.get("underruns"),  # server playout: next frame not ready when due
        late_frames=customer.late_frames,  # client: agent audio arrived after its buffer ran dry
        late_ms=round(customer.late_ms, 1),
        agent_chunks=customer.chunks,
        first_audio_ms=first_audio_ms(heard),  # client: call connected -> first agent audio heard
        server_first_audio_ms=timings.get("first_audio_ms"),  # server: session start -> first frame sent
        turn_gap_ms=turn_gaps_ms(heard, moments),  # client: longest silence inside each agent turn
        server_turn_gap_ms=[int(e["longest_gap_ms"]) for e in played],
        server_turn_gap_at=[str(e.get("longest_gap_at", "")) for e in played],  # where: the join or unit
        dtmf_stop_ms=[stopped_after_ms(heard, float(a["ms"])) for a in log.said if "dtmf" in a],
        # what the server heard and said: why a call missed its outcome
        heard=[{"text": e.get("text"), "intent": e.get("intent")} for e in log.events
               if e.get("type") == "transcript" and e.get("final")],
        agent_said=[str(e.get("say_id")) for e in log.events if e.get("type") == "agent"],
    )
    return record


def worst_gap(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The longest silence inside an agent turn of these calls: client and server figures, and where.

    `at` is the server playout's label of its longest gap ("say_id: 'unit before' | 'unit after'"
    for a join that was not ready, "say_id: inside 'unit'" when the playout itself was late).
    """
    client = max((g for r in records for g in r.get("turn_gap_ms") or []), default=None)
    server = [(g, at, r.get("scenario", "")) for r in records
              for g, at in zip(r.get("server_turn_gap_ms") or [], r.get("server_turn_gap_at") or [],
                               strict=False)]
    ms, at, scenario = max(server, default=(None, "", ""), key=lambda e: e[0] or 0)
    return {"client_ms": client, "server_ms": ms, "at": at, "scenario": scenario}


def level_summary(concurrency: int, records: list[dict[str, Any]], server: Window,
                  client: Window, load: tuple[list[float], list[float]] | None = None) -> dict[str, Any]:
    """The per-level figures of the JSON and the table; `load`: the box's load average before and after."""
    turns = [t for r in records for t in r.get("turns", [])]
    underruns = [r["underruns"] for r in records if r.get("underruns") is not None]
    return {
        "concurrency": concurrency,
        "calls": len(records),
        "calls_ok": sum(1 for r in records if r.get("ok")),
        "outcomes": dict(sorted({o: sum(1 for r in records if r.get("outcome") == o)
                                 for o in {r.get("outcome") for r in records}}.items())),
        "wall_s": round(server.wall_s, 1),
        "voice_to_voice_ms": summary(v for r in records for v in r.get("voice_to_voice_ms", [])),
        "server_voice_to_voice_ms": summary(t["voice_to_voice_ms"] for t in turns),
        "parts_ms": {p: summary(t.get(p) for t in turns) for p in PARTS},
        "fast_endpoint_share": (round(sum(t["fast_endpoint"] for t in turns) / len(turns), 2)
                                if turns else None),
        "barge_in_ms": summary(v for r in records for v in r.get("barge_in_ms", [])),
        "first_audio_ms": summary(r.get("first_audio_ms") for r in records),
        "server_first_audio_ms": summary(r.get("server_first_audio_ms") for r in records),
        "turn_gap_ms": summary(v for r in records for v in r.get("turn_gap_ms", [])),
        "server_turn_gap_ms": summary(v for r in records for v in r.get("server_turn_gap_ms", [])),
        "turn_gap_worst": worst_gap(records),
        "loadavg": {"before": load[0], "after": load[1]} if load else None,
        "dtmf_stop_ms": summary(v for r in records for v in r.get("dtmf_stop_ms", [])),
        "opt_out_persist_ms": summary(v for r in records for v in r.get("opt_out_persist_ms", [])),
        "opt_out_client_ms": summary(v for r in records for v in r.get("opt_out_client_ms", [])),
        "underruns_total": sum(underruns) if underruns else None,
        "calls_with_underrun": sum(1 for u in underruns if u) if underruns else None,
        "late_frames_total": sum(r.get("late_frames", 0) for r in records),
        "calls_with_late_frames": sum(1 for r in records if r.get("late_frames")),
        "server_cpu_avg_pct": round(server.avg_cpu_pct, 1),
        "server_cpu_peak_pct": round(server.peak_cpu_pct, 1),
        "server_peak_rss_mb": round(server.peak_rss_mb, 1),
        "client_cpu_avg_pct": round(client.avg_cpu_pct, 1),
        "call_records": records,
    }


def server_env(opts: BenchOptions, cfg: Any, tmp: Path) -> dict[str, str]:
    """The server's environment: the calls' locale loaded, and an empty TTS disk cache if asked."""
    env = dict(opts.server_env)
    if opts.locale not in cfg.engines.locales:
        env.setdefault("VOICE_AGENT_ENGINES__LOCALES", json.dumps([*cfg.engines.locales, opts.locale]))
    if opts.loopwatch is not None:
        env["VOICE_AGENT_LOOPWATCH"] = str(opts.loopwatch.resolve())
    if opts.fresh_tts_cache:
        env["VOICE_AGENT_ENGINES__TTS_CACHE_DIR"] = str(tmp / "tts-cache")
    return env


def client_voice(opts: BenchOptions, cfg: Any) -> Any:
    """The customers' synthesiser, loaded in the bench process only to render their lines once.

    It has the shape `agent.demo.customer.customer_speech` reads (`locales[locale].tts`, `pool.run`),
    so the bench customer speaks exactly as the demo's: for zh-CN Kokoro another voice of the other
    sex than the agent's (a bench customer in the agent's own voice was misheard: "明天还款" came
    back as "宁杰皇款", and every zh happy_path call ran out of lines).
    """
    from agent.engines import _load_tts
    from agent.models.resolver import resolve

    name = "tts-en" if opts.locale == "en-US" else "tts-zh"
    voice = cfg.engines.zh_voice if opts.locale != "en-US" else None
    tts = _load_tts(resolve(name, models_dir=cfg.models.dir, overrides=cfg.models.paths), voice=voice)

    class _Pool:
        async def run(self, fn: Any, *args: Any, priority: str = "high") -> Any:
            return await asyncio.to_thread(fn, *args)

    class _Engines:
        def __init__(self) -> None:
            self.locales = {opts.locale: SimpleNamespace(tts=tts)}
            self.pool = _Pool()

        async def synthesize(self, locale: str, text: str, priority: str = "high") -> Any:
            return await asyncio.to_thread(tts.synthesize, text)

    return SimpleNamespace(engines=_Engines())


async def run_bench(opts: BenchOptions, progress: Any = None) -> dict[str, Any]:
    """Start the server, play the sweep, stop the server; returns the JSON body."""
    from agent.config import load_settings

    say = progress or (lambda msg: None)
    cfg = load_settings(opts.config)
    api_key = cfg.server.api_keys[0]
    table = SCENARIOS[opts.locale]
    unknown = [n for n in opts.scenarios if n not in table]
    if unknown:
        raise ValueError(f"unknown scenario {unknown[0]!r}; choose from {', '.join(table)}")
    chosen = [table[n] for n in opts.scenarios]

    t0 = time.monotonic()
    voice = client_voice(opts, cfg)
    speech: dict[str, dict[str, np.ndarray]] = {s.name: await synthesize_lines(voice, opts.locale, s)
                                                for s in chosen}
    client_tts_s = time.monotonic() - t0
    say(f"customer speech synthesised once in {client_tts_s:.1f}s")

    numbers = itertools.count(1000)
    levels: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="voice-agent-bench-") as tmp:
        server = ServerProcess(Path(tmp), config=opts.config, env=server_env(opts, cfg, Path(tmp)))
        say("starting the server (loading models, warming up)…")
        await server.start()
        burners = Burners(opts.burn)
        try:
            burners.start()  # after the models loaded: the calls, the cold start's first included, are loaded
            idle_rss = rss_mb(server.pid)[0]
            async with httpx.AsyncClient(base_url=server.base, headers={"X-API-Key": api_key},
                                         timeout=10) as http:
                warm_up_s = (await http.get("/readyz")).json().get("warm_up_s")
                say(f"server ready in {server.load_s:.1f}s (warm-up {warm_up_s}s), RSS {idle_rss:.0f} MiB")
                cold: list[dict[str, Any]] = []  # the first call(s) after the server started
                for i in range(opts.warmup):
                    scen = chosen[i % len(chosen)]
                    cold.append(await play_call(server.base, server.port, api_key, scen, speech[scen.name],
                                                next(numbers), opts, http))
                warm_rss = rss_mb(server.pid)[0]
                if opts.warmup:
                    say(f"warm-up done, server RSS {warm_rss:.0f} MiB")
                for conc in opts.concurrency:
                    n_calls = max(conc, opts.calls if opts.calls is not None else max(conc, 3))
                    say(f"level {conc}: {n_calls} calls, {conc} at once…")
                    records = await _run_level(server, api_key, chosen, speech, conc, n_calls, numbers,
                                               opts, http)
                    levels.append(records)
                    lv = records
                    say(f"level {conc}: v2v p50 {lv['voice_to_voice_ms']['p50']} p95 "
                        f"{lv['voice_to_voice_ms']['p95']} ms, {lv['calls_ok']}/{lv['calls']} ok, "
                        f"server CPU {lv['server_cpu_avg_pct']}%")
            _, peak_rss = rss_mb(server.pid)
        finally:
            burners.stop()
            server.stop()
    xs = [lv["concurrency"] for lv in levels]
    per_call = slope(xs, [lv["server_peak_rss_mb"] for lv in levels])
    return {
        "meta": {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": {**asdict(opts), "config": str(opts.config) if opts.config else None,
                        "loopwatch": str(opts.loopwatch) if opts.loopwatch else None},
            "cpu_count": os.cpu_count(),
            "burn": opts.burn,  # CPU hogs beside the server while measuring, at nice `nice`
            "nice": nice_level(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "server_load_s": round(server.load_s, 1),  # start to /readyz 200: models loaded and warmed
            "server_warm_up_s": warm_up_s,
            "client_tts_s": round(client_tts_s, 1),
            "total_s": round(time.monotonic() - t0, 1),
        },
        "memory": {
            "idle_rss_mb": round(idle_rss, 1),
            "warm_rss_mb": round(warm_rss, 1),
            "peak_rss_mb": round(peak_rss, 1),
            "rss_per_call_mb": round(per_call, 2) if per_call is not None else None,
        },
        "cold_start": {  # the warm-up calls: the first after a cold start comes first
            "first_audio_ms": [r.get("first_audio_ms") for r in cold],
            "turn_gap_ms": [max(r.get("turn_gap_ms") or [0]) for r in cold],
            "turn_gap_worst": worst_gap(cold),
            "turn_gaps_ms": [r.get("turn_gap_ms") for r in cold],  # each agent turn's longest gap
            "server_turn_gap_ms": [r.get("server_turn_gap_ms") for r in cold],
            "server_first_audio_ms": [r.get("server_first_audio_ms") for r in cold],
            "outcomes": [r.get("outcome") for r in cold],
            "ready_s": round(server.load_s, 1),
        },
        "later_first_audio_ms": summary(  # every call but the first after the start
            [r.get("first_audio_ms") for r in cold[1:]]
            + [r.get("first_audio_ms") for lv in levels for r in lv["call_records"]]),
        "levels": levels,
    }


async def _run_level(server: ServerProcess, api_key: str, chosen: list[Scenario],
                     speech: dict[str, dict[str, np.ndarray]], conc: int, n_calls: int,
                     numbers: Any, opts: BenchOptions, http: httpx.AsyncClient) -> dict[str, Any]:
    slots = asyncio.Semaphore(conc)
    load_before = [round(x, 2) for x in os.getloadavg()]
    sw, cw = Window(server.pid), Window(os.getpid())
    sw.start()
    cw.start()
    records: list[dict[str, Any]] = []

    async def one(i: int) -> None:
        scen = chosen[i % len(chosen)]
        try:
            records.append(await play_call(server.base, server.port, api_key, scen, speech[scen.name],
                                           next(numbers), opts, http))
        finally:
            slots.release()

    tasks = []
    for i in range(n_calls):
        await slots.acquire()
        if 0 < i < conc:
            await asyncio.sleep(opts.stagger_ms / 1000)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    await sw.stop()
    await cw.stop()
    return level_summary(conc, records, sw, cw, (load_before, [round(x, 2) for x in os.getloadavg()]))
