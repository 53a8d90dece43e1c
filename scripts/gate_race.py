"""Probe SPEC 7.11: fire N concurrent `POST /v1/calls` for ONE customer and debt at K REST nodes.

Each node is a separate process serving the real FastAPI app (REST only, no models) on the
same store. Prints a table of grants per scenario and writes JSON. The caps are correct when
grants == cap in every row.

    PYTHONPATH=$PWD python scripts/gate_race.py --store pg --nodes 2 --requests 20 50
    PYTHONPATH=$PWD python scripts/gate_race.py --store sqlite --nodes 1 --requests 20 50
    PYTHONPATH=$PWD python scripts/gate_race.py --store pg --nodes 2 --requests 50 --case cn_daily

Cases: us_7in7 (US, 7 attempts in 7 days: cap 7), cn_daily (CN, 6 a day: cap 6), us_rest
(US, a conversation just happened: no call for 7 days, cap 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

KEY = "race-probe-key"
PG = os.environ.get("VOICE_AGENT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CASES = {
    "us_7in7": {"jurisdiction": "US", "phone": "+1415555{n:04d}", "cap": 7},
    "cn_daily": {"jurisdiction": "CN", "phone": "+86138{n:08d}", "cap": 6},
    "us_rest": {"jurisdiction": "US", "phone": "+1415556{n:04d}", "cap": 0, "conversation": True},
}
HASH_KEY = "race-probe-hash-key"

NODE = textwrap.dedent(
    """
    import sys, uvicorn
    from agent.config import Settings
    from agent.runtime import Runtime
    from agent.server.app import create_app
    from agent.store import Store
    url, port, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    settings = Settings()
    settings.store.url = url
    settings.store.phone_hash_key = sys.argv[4]
    settings.server.api_keys = [key]
    store = Store.open(url, settings.store.phone_hash_key)
    runtime = Runtime(settings=settings, engines=None, store=store)
    uvicorn.run(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def window_zone() -> str:
    """An Etc/GMT zone where it is now 10:00-19:00, inside every profile's window."""
    for offset in range(-12, 15):
        name = f"Etc/GMT{'+' if offset <= 0 else '-'}{abs(offset)}" if offset else "UTC"
        if 10 <= datetime.now(UTC).astimezone(ZoneInfo(name)).hour < 19:
            return name
    raise RuntimeError("no zone in window")


def pg_schema() -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    schema = f"va_race_{uuid.uuid4().hex[:8]}"
    with create_engine(PG, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema, f"{PG}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    with create_engine(PG, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


async def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=2) as http:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"node exited {proc.returncode}")
            try:
                await http.get("/healthz")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise RuntimeError("node not ready")


def talk_once(url: str, customer_id: str) -> None:
    """One granted, claimed call on which the customer talked: the rest days start now."""
    from agent.store import CallGrant, CallRequest, Store

    store = Store.open(url, HASH_KEY)
    try:
        req = CallRequest("servicing", "repayment_reminder", customer_id, debt_id="race-debt")
        grant = store.request_call(req)
        assert isinstance(grant, CallGrant), grant
        now = datetime.now(UTC)
        store.claim_call(grant.call_id, grant.token, now)
        store.finish_call(grant.call_id, "completed", {}, now, conversation=True)
    finally:
        store.close()


async def run_case(url: str, nodes: int, requests: int, case: str, n: int) -> dict[str, object]:
    spec = CASES[case]
    ports = [free_port() for _ in range(nodes)]
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", os.getcwd())}
    # Starting the nodes is instant; the loop then waits on HTTP.
    procs = [
        subprocess.Popen([sys.executable, "-c", NODE, url, str(p), KEY, HASH_KEY], env=env)  # noqa: ASYNC220
        for p in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for base, proc in zip(bases, procs, strict=True):
            await wait_ready(base, proc)
        headers = {"X-API-Key": KEY}
        limits = httpx.Limits(max_connections=requests)
        clients = [httpx.AsyncClient(base_url=b, headers=headers, timeout=60, limits=limits) for b in bases]
        reply = await clients[0].post(
            "/v1/customers",
            json={
                "phone": str(spec["phone"]).format(n=n),
                "name": "Race Probe",
                "timezone": window_zone(),
                "jurisdiction": spec["jurisdiction"],
            },
        )
        reply.raise_for_status()
        cid = reply.json()["customer_id"]
        body = {"customer_id": cid, "purpose": "servicing", "debt_id": "race-debt"}
        if spec.get("conversation"):
            await asyncio.to_thread(talk_once, url, cid)
        started = time.perf_counter()
        replies = await asyncio.gather(
            *(clients[i % nodes].post("/v1/calls", json=body) for i in range(requests))
        )
        wall = time.perf_counter() - started
        codes: dict[str, int] = {}
        for r in replies:
            label = str(r.status_code) if r.status_code != 403 else f"403:{r.json().get('reason')}"
            codes[label] = codes.get(label, 0) + 1
        verify = (await clients[0].post("/v1/audit/verify")).json()
        for c in clients:
            await c.aclose()
        return {
            "case": case,
            "nodes": nodes,
            "requests": requests,
            "cap": spec["cap"],
            "granted": codes.get("201", 0),
            "codes": codes,
            "wall_s": round(wall, 2),
            "audit_ok": verify.get("ok"),
        }
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", choices=["pg", "sqlite"], default="pg")
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--requests", type=int, nargs="+", default=[20, 50])
    ap.add_argument("--case", choices=sorted(CASES), nargs="+", default=["us_7in7"])
    ap.add_argument("--json", type=Path, default=Path("out/gate_race.json"))
    args = ap.parse_args()
    rows = []
    for i, (case, count) in enumerate((c, r) for c in args.case for r in args.requests):
        schema = None
        tmp = tempfile.TemporaryDirectory()
        if args.store == "pg":
            schema, url = pg_schema()
        else:
            url = f"sqlite:///{Path(tmp.name) / 'race.db'}"
        try:
            rows.append(await run_case(url, args.nodes, count, case, 1000 + i))
        finally:
            if schema:
                drop_schema(schema)
            tmp.cleanup()
    head = f"{'store':7} {'case':9} {'nodes':>5} {'requests':>8} {'cap':>4} {'granted':>7} {'audit':>5}"
    print(head + "  codes")
    for r in rows:
        print(
            f"{args.store:7} {r['case']:9} {r['nodes']:>5} {r['requests']:>8} {r['cap']:>4} "
            f"{r['granted']:>7} {r['audit_ok']!s:>5}  {r['codes']}"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"store": args.store, "rows": rows}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
