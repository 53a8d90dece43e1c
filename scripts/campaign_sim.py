"""Campaign simulation benchmark: the real scheduler, gate and pacing against the naive dialer.

Same as `voice-agent campaign sim --compare`: 10,000 simulated customers over 30 days on a
virtual clock, every dialled attempt re-checked by an independent violation checker.
Prints the table (ours vs naive) and writes JSON; exit 1 on any violation or abandoned call.

    python scripts/campaign_sim.py --customers 10000 --days 30 --seed 7 --json out/campaign.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.cli.campaign import sim


def main() -> int:
    """Parse the arguments and run both dialers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()
    try:
        sim(customers=args.customers, days=args.days, seed=args.seed, naive=False, compare=True,
            json_out=args.json)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - typer.Exit and click's exits carry exit_code
        return int(getattr(exc, "exit_code", 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
