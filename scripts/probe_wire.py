"""Hostile-wire probes against a real `voice-agent serve` subprocess (issues 11.8, 12.1, 12.5, 12.6).

Each probe runs while /healthz is polled every 10 ms and, where it matters, while a live
native call is playing its greeting, so an event-loop stall shows up as /healthz latency
and as a gap in the live call's agent audio:

- unknown_flood: an admitted Twilio call sends 10,000 unknown events as fast as it can;
  server log bytes written, /healthz worst latency, the live call's worst audio gap.
- long_type: a first native message `{"type": "d"*32000}`: time to the close, worst latency.
- audio_flood_opt_out: an admitted native call sends N seconds of customer speech as fast as
  the socket takes it, then DTMF 9; the delay from the key press to the `opt_out` event.
  The same key press without a flood is the reference.
- hostile_closes: close codes for 60,000-deep JSON, a float sample_rate, an Asterisk
  optimal_frame_size of 2.
- idle_sockets: `voice_agent_active_calls` while 200 sockets are open and never authenticate.

Run: `nice -n 10 python scripts/probe_wire.py --json out/probe-wire.json` (needs the models;
takes about two minutes after the server has loaded). Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets

from agent.bench.proc import ServerProcess
from agent.demo.runner import request_call

FRAME = 320  # 20 ms at 16 kHz
SPEECH_LINE = "I have already paid that amount last week, and I would like to know why you keep calling me."


class Pinger:
    """Polls /healthz every 10 ms; keeps (t, latency_s)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as http:
            while True:
                t = time.monotonic()
                await http.get("/healthz")
                self.samples.append((t, time.monotonic() - t))
                await asyncio.sleep(0.01)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def worst_ms(self, t0: float, t1: float) -> float:
        """Worst latency of the requests that were in flight at any time in [t0, t1]."""
        inside = [lat for t, lat in self.samples if t <= t1 and t + lat >= t0]
        return round(max(inside) * 1000, 1) if inside else float("nan")


class LiveCall:
    """A native call that streams silence in real time and times the agent audio it receives."""

    def __init__(self, port: int, grant: dict[str, Any]) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws/native"
        self.grant = grant
        self.audio_at: list[float] = []
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.ws: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self.first_audio = asyncio.Event()

    async def open(self) -> None:
        self.ws = await websockets.connect(self.url, max_size=2**22)
        start = {"type": "start", "call_id": self.grant["call_id"], "token": self.grant["token"],
                 "sample_rate": 16000}
        await self.ws.send(json.dumps(start))
        self._tasks = [asyncio.create_task(self._reader()), asyncio.create_task(self._mic())]

    async def _mic(self) -> None:
        silence = np.zeros(FRAME, dtype="<i2").tobytes()
        t0, n = time.monotonic(), 0
        while True:
            await self.ws.send(silence)
            n += 1
            await asyncio.sleep(max(0.0, t0 + n * 0.02 - time.monotonic()))

    async def _reader(self) -> None:
        try:
            async for message in self.ws:
                now = time.monotonic()
                if isinstance(message, bytes):
                    self.audio_at.append(now)
                    self.first_audio.set()
                else:
                    event = json.loads(message)
                    self.events.append((now, event))
                    if event.get("type") == "mark":
                        await self.ws.send(json.dumps({"type": "mark", "name": event["name"]}))
        except websockets.ConnectionClosed:
            pass

    def worst_gap_ms(self, t0: float, t1: float) -> float:
        times = [t for t in self.audio_at if t0 - 0.5 <= t <= t1]
        gaps = [b - a for a, b in itertools.pairwise(times) if b >= t0]
        return round(max(gaps) * 1000, 1) if gaps else float("nan")

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.ws.close()


async def _grant(server: ServerProcess, api_key: str, numbers: Any) -> dict[str, Any]:
    return await request_call(server.base, api_key, "en-US", "repayment_reminder", next(numbers))


async def _live(server: ServerProcess, api_key: str, numbers: Any) -> LiveCall:
    """A live call whose greeting has started playing."""
    live = LiveCall(server.port, await _grant(server, api_key, numbers))
    await live.open()
    try:
        await asyncio.wait_for(live.first_audio.wait(), 300)
    except TimeoutError as exc:
        raise RuntimeError(f"the live call never played audio: {live.events}") from exc
    return live


async def _drain(ws: Any) -> int | None:
    try:
        async for _ in ws:
            pass
    except websockets.ConnectionClosed:
        pass
    code: int | None = ws.close_code
    return code


async def unknown_flood(server: ServerProcess, api_key: str, numbers: Any, pinger: Pinger,
                        count: int) -> dict[str, Any]:
    """An admitted Twilio call sends `count` unknown events; a live call plays meanwhile."""
    live = await _live(server, api_key, numbers)
    grant = await _grant(server, api_key, numbers)
    sid = "MZ" + "1" * 32
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ws/twilio", max_size=2**22)
    drain = asyncio.create_task(_drain(ws))
    await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    start = {"event": "start", "sequenceNumber": "1", "streamSid": sid,
             "start": {"streamSid": sid, "callSid": "CA" + "2" * 32, "accountSid": "AC" + "3" * 32,
                       "customParameters": {"call_id": grant["call_id"], "token": grant["token"]},
                       "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    await ws.send(json.dumps(start))
    await asyncio.sleep(0.5)
    log0 = server.log_path.stat().st_size
    t0 = time.monotonic()
    sent = 0
    try:
        for i in range(count):
            await ws.send(json.dumps({"event": f"bogus{i}", "sequenceNumber": str(i + 2), "streamSid": sid,
                                      "bogus": {"n": i}}))
            sent += 1
    except websockets.ConnectionClosed:
        pass
    if not count:  # the control: the call simply ends here, as the flood's call ends at its close
        await ws.close()
    t_sent = time.monotonic()
    await asyncio.sleep(3.0)
    t1 = time.monotonic()
    code = ws.close_code
    await ws.close()
    await asyncio.gather(drain, return_exceptions=True)
    await live.close()
    return {
        "sent": sent,
        "send_s": round(t_sent - t0, 2),
        "close_code": code,
        "log_bytes": server.log_path.stat().st_size - log0,
        "healthz_worst_ms": pinger.worst_ms(t0, t1),
        "live_call_worst_gap_ms": live.worst_gap_ms(t0, t1),
    }


async def long_type(server: ServerProcess, api_key: str, numbers: Any, pinger: Pinger) -> dict[str, Any]:
    """First message {"type": "d"*32000} on the native path, while a live call plays."""
    live = await _live(server, api_key, numbers)
    await asyncio.sleep(0.3)
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ws/native", max_size=2**22)
    t0 = time.monotonic()
    await ws.send(json.dumps({"type": "d" * 32000}))
    code = await asyncio.wait_for(_drain(ws), 60)
    t_closed = time.monotonic()
    await asyncio.sleep(2.0)
    t1 = time.monotonic()
    await live.close()
    return {
        "close_code": code,
        "close_after_ms": round((t_closed - t0) * 1000, 1),
        "healthz_worst_ms": pinger.worst_ms(t0, t1),
        "live_call_worst_gap_ms": live.worst_gap_ms(t0, t1),
    }


async def opt_out_delay(server: ServerProcess, api_key: str, numbers: Any, flood: np.ndarray | None
                        ) -> dict[str, Any]:
    """DTMF 9 on a native call, right after `flood` (customer speech sent unpaced) or alone."""
    grant = await _grant(server, api_key, numbers)
    ws = await websockets.connect(f"ws://127.0.0.1:{server.port}/ws/native", max_size=2**22)
    events: list[tuple[float, dict[str, Any]]] = []
    got_opt_out = asyncio.Event()

    async def reader() -> None:
        try:
            async for message in ws:
                if isinstance(message, str):
                    event = json.loads(message)
                    events.append((time.monotonic(), event))
                    if event.get("type") == "opt_out":
                        got_opt_out.set()
                    if event.get("type") == "mark":
                        await ws.send(json.dumps({"type": "mark", "name": event["name"]}))
        except websockets.ConnectionClosed:
            pass

    task = asyncio.create_task(reader())
    await ws.send(json.dumps({"type": "start", "call_id": grant["call_id"], "token": grant["token"],
                              "sample_rate": 16000}))
    silence = np.zeros(FRAME, dtype="<i2").tobytes()
    for _ in range(50):  # one second of a normal line first
        await ws.send(silence)
        await asyncio.sleep(0.02)
    t_flood = time.monotonic()
    flood_s = 0.0
    if flood is not None:
        for i in range(0, len(flood) - FRAME + 1, FRAME):
            await ws.send(flood[i : i + FRAME].astype("<i2").tobytes())
        flood_s = len(flood) / 16000
    t_key = time.monotonic()
    await ws.send(json.dumps({"type": "dtmf", "digit": "9"}))
    try:
        await asyncio.wait_for(got_opt_out.wait(), 60)
        t_opt = next(t for t, e in events if e.get("type") == "opt_out")
        delay: float | None = round((t_opt - t_key) * 1000, 1)
    except TimeoutError:
        delay = None
    code = ws.close_code
    await ws.close()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return {"flood_audio_s": round(flood_s, 1), "flood_send_ms": round((t_key - t_flood) * 1000, 1),
            "dtmf_to_opt_out_ms": delay, "close_code": code}


async def hostile_closes(server: ServerProcess) -> dict[str, Any]:
    """Close codes for inputs that used to end in 1011 with a traceback."""
    async def first(path: str, *messages: str) -> int | None:
        async with websockets.connect(f"ws://127.0.0.1:{server.port}{path}", max_size=2**22) as ws:
            for message in messages:
                await ws.send(message)
            return await asyncio.wait_for(_drain(ws), 20)

    deep = "[" * 30000 + "]" * 30000  # as deep as fits in one 64 KiB message
    asterisk = {"event": "MEDIA_START", "connection_id": "c", "channel": "WebSocket/c", "channel_id": "x",
                "format": "slin16", "optimal_frame_size": 2, "ptime": 20,
                "channel_variables": {"CALL_ID": "nope", "TOKEN": "nope"}}
    return {
        "deep_json": await first("/ws/native", deep),
        "float_sample_rate": await first("/ws/native", json.dumps({"type": "start", "call_id": "x",
                                                                    "token": "y", "sample_rate": 16000.0})),
        "asterisk_frame_2_bytes": await first("/ws/asterisk", json.dumps(asterisk)),
    }


async def idle_sockets(server: ServerProcess, n: int) -> dict[str, Any]:
    """`voice_agent_active_calls` while n sockets are open and never authenticate."""
    sockets = []
    for _ in range(n):
        sockets.append(await websockets.connect(f"ws://127.0.0.1:{server.port}/ws/native"))
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=server.base, timeout=10) as http:
        text = (await http.get("/metrics")).text
    value = next((float(line.split()[-1]) for line in text.splitlines()
                  if line.startswith("voice_agent_active_calls ")), float("nan"))
    for ws in sockets:
        await ws.close()
    return {"idle_sockets": n, "active_calls_reported": value}


def _speech(seconds: float) -> np.ndarray:
    from agent.config import load_settings
    from agent.engines import _load_tts
    from agent.models.resolver import resolve

    cfg = load_settings(None)
    tts = _load_tts(resolve("tts-en", models_dir=cfg.models.dir, overrides=cfg.models.paths,
                            allow_hub=cfg.models.allow_hub_download))
    line = np.asarray(tts.synthesize(SPEECH_LINE).pcm16k, dtype=np.int16)
    reps = int(np.ceil(seconds * 16000 / len(line)))
    return np.tile(line, reps)[: int(seconds * 16000)]


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from agent.config import load_settings

    api_key = load_settings(None).server.api_keys[0]
    flood = _speech(args.flood_s)
    numbers = iter(range(random.randint(40000, 90000), 10**6))
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="probe-wire-") as tmp:
        server = ServerProcess(Path(tmp), env={"VOICE_AGENT_LOGGING__FORMAT": "json"})
        await server.start()
        pinger = Pinger(server.base)
        pinger.start()
        try:
            warm = await _live(server, api_key, numbers)  # the first call after start is the slow one
            await warm.close()
            t = time.monotonic()
            await asyncio.sleep(2.0)
            out["idle_healthz_worst_ms"] = pinger.worst_ms(t, time.monotonic())
            # the same admitted Twilio call without the flood, hung up at once: what the call costs
            out["admitted_call_no_flood"] = await unknown_flood(server, api_key, numbers, pinger, 0)
            out["unknown_flood"] = await unknown_flood(server, api_key, numbers, pinger, args.messages)
            if args.only_flood:
                return out
            out["long_type"] = await long_type(server, api_key, numbers, pinger)
            out["opt_out_no_flood"] = await opt_out_delay(server, api_key, numbers, None)
            out["opt_out_after_audio_flood"] = await opt_out_delay(server, api_key, numbers, flood)
            out["hostile_closes"] = await hostile_closes(server)
            out["idle_sockets"] = await idle_sockets(server, args.idle)
            tracebacks = server.log_path.read_text(errors="replace").count("Traceback")
            out["server_log_tracebacks"] = tracebacks
        finally:
            await pinger.stop()
            lat = [lat for _, lat in pinger.samples]
            out["healthz_p50_ms"] = round(statistics.median(lat) * 1000, 1) if lat else None
            server.stop()
    return out


def _print(result: dict[str, Any]) -> None:
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"    {k:28} {v}")
        else:
            print(f"{key:32} {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10000, help="unknown events in the flood")
    parser.add_argument("--flood-s", type=float, default=30.0, help="seconds of speech sent unpaced")
    parser.add_argument("--idle", type=int, default=200, help="idle sockets opened")
    parser.add_argument("--json", type=Path, default=None, help="write the result here")
    parser.add_argument("--only-flood", action="store_true", help="stop after the unknown-event flood")
    ns = parser.parse_args()
    result = asyncio.run(main(ns))
    _print(result)
    if ns.json:
        ns.json.parent.mkdir(parents=True, exist_ok=True)
        ns.json.write_text(json.dumps(result, indent=2) + "\n")
