"""Probe the REST API's answers to client mistakes (issue 12, finding 4) on a REST node process.

For each case prints the status, the time taken and the start of the body. A client mistake
must be a 4xx with a stable error code and never echo SQL, bound parameters or the input.

    PYTHONPATH=$PWD python scripts/rest_errors.py --store pg
    PYTHONPATH=$PWD python scripts/rest_errors.py --store sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from scripts.gate_race import HASH_KEY, KEY, NODE, drop_schema, free_port, pg_schema, wait_ready, window_zone

MB = "d" * 1_000_000


def cases(cid: str) -> list[tuple[str, str, str, dict[str, object] | bytes]]:
    """(name, method, path, JSON body or raw CSV bytes)."""
    customer = {"phone": "+14155550190", "timezone": "UTC"}
    return [
        (
            "naive granted_at",
            "POST",
            f"/v1/customers/{cid}/consents",
            {"purpose": "marketing", "source": "web", "granted_at": "2025-01-01T00:00:00"},
        ),
        ("name over 200 chars", "POST", "/v1/customers", {**customer, "name": "N" * 201}),
        ("NUL byte in name", "POST", "/v1/customers", {**customer, "name": "Ann\u0000Lee"}),
        (
            "long debt_id",
            "POST",
            "/v1/calls",
            {"customer_id": cid, "purpose": "servicing", "debt_id": "d" * 300},
        ),
        ("1 MB debt_id", "POST", "/v1/calls", {"customer_id": cid, "purpose": "servicing", "debt_id": MB}),
        ("CSV not UTF-8", "POST", "/v1/suppressions/import", "+14155550191,all,caf\xe9\n".encode("latin-1")),
    ]


async def probe(url: str) -> list[dict[str, object]]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", os.getcwd())}
    proc = subprocess.Popen(  # noqa: ASYNC220 - instant start; the loop then waits on HTTP
        [sys.executable, "-c", NODE, url, str(port), KEY, HASH_KEY], env=env
    )
    rows: list[dict[str, object]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, proc)
        async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": KEY}, timeout=600) as http:
            reply = await http.post(
                "/v1/customers", json={"phone": "+14155550199", "name": "Ann", "timezone": window_zone()}
            )
            reply.raise_for_status()
            cid = reply.json()["customer_id"]
            for name, method, path, body in cases(cid):
                started = time.perf_counter()
                if isinstance(body, bytes):
                    r = await http.request(method, path, content=body, headers={"Content-Type": "text/csv"})
                else:
                    r = await http.request(method, path, json=body)
                took = time.perf_counter() - started
                rows.append(
                    {"case": name, "status": r.status_code, "s": round(took, 3), "body": r.text[:240]}
                )
    finally:
        proc.terminate()
        proc.wait(10)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", choices=["pg", "sqlite"], default="pg")
    ap.add_argument("--json", type=Path, default=Path("out/rest_errors.json"))
    args = ap.parse_args()
    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.store == "pg":
            schema, url = pg_schema()
        else:
            url = f"sqlite:///{Path(tmp) / 'errors.db'}"
        try:
            rows = asyncio.run(probe(url))
        finally:
            if schema:
                drop_schema(schema)
    for r in rows:
        print(f"{args.store:6} {r['case']:20} {r['status']:>4} {r['s']:>7}s  {r['body']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"store": args.store, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
