"""`voice-agent demo`: a whole call on loopback between the agent and a simulated customer.

Starts the real server in this process on a free loopback port, registers the demo
customer and asks the pre-call gate for the call (POST /v1/calls), then the customer
connects over the native protocol or through a fake telephone gateway (`transport`:
twilio, jambonz, freeswitch, asterisk) and plays the scenario with real synthesised
speech, paced in real time. The agent hears it only through its ASR.

Gateway protocols carry no call-progress JSON, so for them the outcome, the transcript and
the server-side timings come from `GET /v1/calls/{call_id}` once the call has ended; the
customer-side measurements (voice-to-voice, barge-in) are taken on the wire either way.
"""

from __future__ import annotations

import asyncio
import json
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import uvicorn

from agent.call import progress
from agent.demo.customer import CustomerLog, SimulatedCustomer, customer_speech, speaking_voices
from agent.demo.links import make_link
from agent.demo.scenarios import SCENARIOS, Scenario, demo_slots
from agent.server.ws import UVICORN_WS_OPTIONS

# Fictional numbers (555-01xx / 138-0013-8xxx), one per scenario so that one scenario's
# opt-out or conversation does not make the gate refuse the next one.
DEMO_PHONE = {"en-US": "+1202555{:04d}", "zh-CN": "+86138001{:05d}"}
DEMO_JURISDICTION = {"en-US": "US", "zh-CN": "CN"}
# Where a demo customer may live, per locale: the demo picks one where it is daytime now,
# so the demo call passes the calling-window rule honestly at any hour.
DEMO_ZONES = {
    "en-US": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
              "America/Anchorage", "Pacific/Honolulu", "Pacific/Pago_Pago", "Pacific/Guam",
              "America/Puerto_Rico",
              # between about 10:00 and 13:00 UTC no US zone is in daytime: the demo customer is then
              # a US customer living in London (Reg F's convenient hours are the consumer's own)
              "Europe/London"),
    "zh-CN": ("Asia/Shanghai", "Europe/London", "America/New_York", "America/Los_Angeles",
              "Australia/Sydney", "Europe/Berlin"),
}


def fresh_demo_store(path: str) -> str:
    """A new, empty SQLite store for a local demo/talk session (its gate and records are real)."""
    fresh = Path(path)
    fresh.parent.mkdir(parents=True, exist_ok=True)
    for leftover in fresh.parent.glob(fresh.name + "*"):
        leftover.unlink()
    return f"sqlite:///{fresh}"


def daytime_zone(locale: str, now: datetime | None = None) -> str:
    """A zone from the locale's list where the local time is now between 09:00 and 20:00."""
    now = now or datetime.now(UTC)
    zones = DEMO_ZONES[locale]
    for zone in zones:
        if 9 <= now.astimezone(ZoneInfo(zone)).hour < 20:
            return zone
    return zones[0]  # nowhere is it daytime: the gate will refuse, and say so


@dataclass
class DemoResult:
    """One scenario's report (the --json shape) and its raw log."""

    report: dict[str, Any]
    log: CustomerLog


class LoopbackServer:
    """The real FastAPI app served by uvicorn on 127.0.0.1 inside this event loop."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self._app = app
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=1 << 20,
                           **UVICORN_WS_OPTIONS)
        )
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def __aenter__(self) -> LoopbackServer:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        runtime = getattr(self._app.state, "runtime", None)
        if runtime is not None and runtime.warm_task is not None:  # ready = warmed up (agent.warmup)
            await asyncio.shield(runtime.warm_task)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    async def until_stopped(self) -> None:
        """Wait until the server stops (uvicorn ends it on Ctrl-C / SIGTERM)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def request_call(
    base: str, api_key: str, locale: str, use_case: str, number: int = 100
) -> dict[str, Any]:
    """Register a demo customer and ask the pre-call gate for a call; returns the grant."""
    headers = {"X-API-Key": api_key}
    zone = daytime_zone(locale)
    slots = demo_slots(locale, datetime.now(ZoneInfo(zone)).date())
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        customer = {
            "external_ref": f"demo-{locale}-{number}",
            "phone": DEMO_PHONE[locale].format(number),
            "name": slots["customer_name"],
            "timezone": zone,
            "locale": locale,
            "jurisdiction": DEMO_JURISDICTION[locale],
        }
        reply = await http.post("/v1/customers", json=customer)
        if reply.status_code == 409:  # registered by an earlier run: call by phone number
            who = {"phone": customer["phone"]}
        else:
            reply.raise_for_status()
            who = {"customer_id": reply.json()["customer_id"]}
        reply = await http.post(
            "/v1/calls",
            json={
                **who,
                "use_case": use_case,
                "locale": locale,
                "purpose": "servicing",
                "debt_id": f"demo-debt-{locale}-{number}",
                "slots": slots,
            },
        )
        if reply.status_code >= 400:
            raise RuntimeError(f"the pre-call gate refused the demo call: {reply.text}")
        return dict(reply.json())


async def synthesize_lines(runtime: Any, locale: str, scenario: Scenario) -> dict[str, np.ndarray]:
    """The customer's lines as 16 kHz speech (another voice than the agent's when the TTS has voices)."""
    return await customer_speech(runtime.engines, locale, [s.say for s in scenario.steps if s.say])


async def run_scenario(
    runtime: Any,
    server: LoopbackServer,
    scenario: Scenario,
    *,
    locale: str = "en-US",
    use_case: str = "repayment_reminder",
    printer: Any = None,
    transport: str = "native",
    number: int | None = None,
    line: str = "continuous",
) -> DemoResult:
    """Play one scenario through the running server and build its report.

    `line` is how the customer's audio reaches the runtime (see agent.demo.links):
    continuous, suppressed (no media while silent), jitter, or suppressed+jitter.
    """
    speech = await synthesize_lines(runtime, locale, scenario)
    if number is None:  # one fictional number per scenario (tests pass their own)
        number = 100 + sorted(SCENARIOS[locale]).index(scenario.name)
    api_key = runtime.settings.server.api_keys[0]
    grant = await request_call(server.base, api_key, locale, use_case, number)
    link = make_link(transport, f"ws://127.0.0.1:{server.port}", grant["call_id"], grant["token"], line=line)
    customer = SimulatedCustomer(link, scenario, speech, printer=printer)
    log = await customer.run()
    if not link.carries_progress:
        log.call_id = grant["call_id"]
        log.record = await fetch_call(server.base, api_key, grant["call_id"])
        log.outcome = log.record.get("outcome")
        replay_record(log.record, printer)
    report = build_report(scenario, locale, log)
    report["voices"] = speaking_voices(runtime.engines, locale)
    return DemoResult(report, log)


async def fetch_call(base: str, api_key: str, call_id: str, wait_s: float = 5.0) -> dict[str, Any]:
    """GET /v1/calls/{call_id}, waiting (briefly) until the call's end has been recorded."""
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": api_key}, timeout=10) as http:
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            reply = await http.get(f"/v1/calls/{call_id}")
            reply.raise_for_status()
            record = dict(reply.json())
            if record.get("outcome") or asyncio.get_running_loop().time() > deadline:
                return record
            await asyncio.sleep(0.05)


def replay_record(record: dict[str, Any], printer: Any) -> None:
    """Print the stored call for a gateway call: its turns are read after the call, not live."""
    if printer is None:
        return
    for turn in record.get("transcript", []):
        ms = int(turn.get("start_ms") or 0)
        event: progress.Progress
        if turn.get("speaker") == "agent":
            event = progress.AgentSaid("", turn["text"], "read from GET /v1/calls after the call", False, ms)
        else:
            event = progress.Transcribed(True, turn["text"], turn.get("intent"), start_ms=ms)
        printer({**progress.to_json(event), "ms": ms})
    ended_ms = (record.get("timings") or {}).get("duration_ms", 0)
    printer({"type": "hangup", "reason": record.get("outcome"), "ms": ended_ms})


def build_report(scenario: Scenario, locale: str, log: CustomerLog) -> dict[str, Any]:
    """The --json report: outcome, turns in order, voice-to-voice per turn, barge-ins."""
    if log.record is not None:
        return _gateway_report(scenario, locale, log, log.record)
    turns: list[dict[str, Any]] = []
    events = [(progress.parse(raw), raw) for raw in log.events]
    for event, raw in events:
        if isinstance(event, progress.AgentSaid):
            turns.append({"speaker": "agent", "text": event.text, "intent": None, "start_ms": int(raw["ms"])})
        elif isinstance(event, progress.Transcribed) and event.final:
            start = event.start_ms if event.start_ms is not None else int(raw["ms"])
            turns.append({"speaker": "customer", "text": event.text, "intent": event.intent,
                          "start_ms": start})
    server_turns = [progress.to_json(e) for e, _ in events if isinstance(e, progress.TurnTimed)]
    played = [e for e, _ in events if isinstance(e, progress.AgentTurnPlayed)]
    return {
        "scenario": scenario.name,
        "locale": locale,
        "call_id": log.call_id,
        "outcome": log.outcome or "no_hangup",
        "expected_outcome": scenario.expected_outcome,
        "turns": turns,
        "customer_said": log.said,
        "voice_to_voice_ms": log.voice_to_voice_ms,
        "server_voice_to_voice_ms": [int(e["voice_to_voice_ms"]) for e in server_turns],
        "turn_parts": server_turns,
        "barge_ins": sum(1 for e, _ in events if isinstance(e, progress.BargedIn)),
        "barge_in_ms": log.barge_in_ms,
        "opt_out_persist_ms": [e.persisted_ms for e, _ in events if isinstance(e, progress.OptedOut)],
        "server_turn_gap_ms": [e.longest_gap_ms for e in played],  # longest silence inside each agent turn
    }


def _gateway_report(
    scenario: Scenario, locale: str, log: CustomerLog, record: dict[str, Any]
) -> dict[str, Any]:
    """The same report for a gateway call: turns, outcome and server timings from GET /v1/calls.

    Turn start times are the store's (ms since the call started, server clock); the
    customer-side measurements are on the customer's clock, as on the native protocol.
    """
    timings = record.get("timings") or {}
    turns = [
        {"speaker": t["speaker"], "text": t["text"],
         "intent": t.get("intent") if t["speaker"] != "agent" else None,
         "start_ms": int(t.get("start_ms") or 0)}
        for t in record.get("transcript", [])
    ]
    return {
        "scenario": scenario.name,
        "locale": locale,
        "transport": log.transport,
        "call_id": log.call_id,
        "outcome": record.get("outcome") or "no_hangup",
        "expected_outcome": scenario.expected_outcome,
        "turns": turns,
        "customer_said": log.said,
        "voice_to_voice_ms": log.voice_to_voice_ms,
        "server_voice_to_voice_ms": [int(v) for v in timings.get("voice_to_voice_ms") or []],
        "turn_parts": [],  # per-turn endpoint/ASR timings travel only as native call-progress events
        "barge_ins": int(timings.get("barge_ins") or 0),
        "barge_in_ms": log.barge_in_ms,
        "opt_out_persist_ms": [],
        "gateway_errors": log.gateway_errors,
    }


def write_wav(path: Path, log: CustomerLog, rate: int = 16000) -> None:
    """A stereo recording of the call: customer on the left, agent on the right."""
    end = 0
    for start, pcm in [*log.sent, *log.played]:
        end = max(end, start + len(pcm))
    stereo = np.zeros((end + rate // 2, 2), dtype=np.int32)
    for channel, parts in ((0, log.sent), (1, log.played)):
        for start, pcm in parts:
            stereo[start : start + len(pcm), channel] += pcm.astype(np.int32)
    stereo = np.clip(stereo, -32768, 32767).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(stereo.tobytes())


def write_json(path: Path, reports: list[dict[str, Any]]) -> None:
    """One report as an object, several as a list."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = reports[0] if len(reports) == 1 else reports
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def scenarios_for(locale: str, names: list[str] | None) -> list[Scenario]:
    """The named scenarios (default: happy_path then opt_out), or a ValueError listing them."""
    table = SCENARIOS[locale]
    chosen = names or ["happy_path", "opt_out"]
    unknown = [n for n in chosen if n not in table]
    if unknown:
        raise ValueError(f"unknown scenario {unknown[0]!r}; choose from {', '.join(table)}")
    return [table[n] for n in chosen]
