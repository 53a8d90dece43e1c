"""Shared test data for dialogue tests: the shipped en-US repayment script and its slot values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "prompts" / "en-US" / "repayment_reminder.yaml"
TODAY = dt.date(2025, 3, 5)
SLOTS = {
    "customer_name": "Jane Doe",
    "company_name": "Acme Lending",
    "amount_due": "$1,234.50",
    "due_date": "2025-03-14",
    "callback_number": "800-555-0123",
}
