"""Prometheus metrics of one server process, in their own registry (tests make many apps).

The session reports measurements through `observe(name, value)`; the socket layer counts
finished calls (`call_finished`) and the gate's refusals (`refusal`); `bind_engines` adds
gauges read at scrape time from the worker pool and the model load times.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0)
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0, 5.0)
PREFIX = "voice_agent_"


class Metrics:
    """The counters, gauges and histograms an operator watches (SPEC 9.1)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.active_calls = Gauge(f"{PREFIX}active_calls", "Calls in progress", registry=r)
        self.calls = Counter(f"{PREFIX}calls", "Finished calls by outcome", ["outcome"], registry=r)
        self.refusals = Counter(
            f"{PREFIX}gate_refusals", "Calls refused by the pre-call gate, by reason code", ["reason"],
            registry=r,
        )
        self.opt_outs = Counter(f"{PREFIX}opt_outs", "Opt-outs persisted", registry=r)
        self.barge_ins = Counter(f"{PREFIX}barge_ins", "Agent speech interrupted by the customer", registry=r)
        self.voice_to_voice = Histogram(
            f"{PREFIX}voice_to_voice_seconds",
            "End of customer speech to first agent audio on the wire",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.asr = Histogram(f"{PREFIX}asr_seconds", "ASR time per final transcript",
                             buckets=STAGE_BUCKETS, registry=r)
        self.tts = Histogram(f"{PREFIX}tts_seconds", "TTS time per synthesised utterance (cache misses)",
                             buckets=STAGE_BUCKETS, registry=r)
        self.nlu = Histogram(f"{PREFIX}nlu_seconds", "NLU time per customer turn",
                             buckets=STAGE_BUCKETS, registry=r)
        self.opt_out_persist = Histogram(
            f"{PREFIX}opt_out_persist_seconds", "Opt-out detected to suppression committed",
            buckets=LATENCY_BUCKETS, registry=r,
        )
        self.pool_queue_depth = Gauge(f"{PREFIX}worker_pool_queue_depth",
                                      "Model jobs waiting for a worker thread", registry=r)
        self.pool_in_flight = Gauge(f"{PREFIX}worker_pool_in_flight", "Model jobs running now", registry=r)
        self.model_load = Gauge(f"{PREFIX}model_load_seconds", "Time taken to load each model at start-up",
                                ["model"], registry=r)
        self._histograms = {
            "voice_to_voice_ms": self.voice_to_voice,
            "asr_ms": self.asr,
            "tts_ms": self.tts,
            "nlu_ms": self.nlu,
        }

    def observe(self, name: str, value: float) -> None:
        """Record a call's measurement by name (the session's metric callback)."""
        hist = self._histograms.get(name)
        if hist is not None:
            hist.observe(value / 1000)
        elif name == "opt_out_persist_ms":
            self.opt_outs.inc()
            self.opt_out_persist.observe(value / 1000)
        elif name == "barge_in":
            self.barge_ins.inc()
        else:
            log.debug("ignoring unknown metric %r", name)

    def call_finished(self, outcome: str) -> None:
        """Count a finished call by its outcome."""
        self.calls.labels(outcome=outcome).inc()

    def refusal(self, reason: str) -> None:
        """Count a call the pre-call gate (or admission) refused, by reason code."""
        self.refusals.labels(reason=reason).inc()

    def bind_engines(self, engines: Any) -> None:
        """Read the worker pool at scrape time and publish each model's load time."""
        pool = getattr(engines, "pool", None)
        if pool is not None:
            self.pool_queue_depth.set_function(lambda: float(pool.queue_depth))
            self.pool_in_flight.set_function(lambda: float(pool.in_flight))
        for model, ms in (getattr(engines, "load_ms", None) or {}).items():
            self.model_load.labels(model=model).set(ms / 1000)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
