"""The process-wide runtime: models, scripts, NLU, store and speech cache, loaded once.

Every call shares these; `admit` turns a gateway's start message into a `CallSetup`
(checking the call token or the gateway's shared secret), `new_session` builds the call.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from agent.call.contracts import CallOutput, CallSetup
from agent.call.recorder import CallRecorder, StoreRecorder
from agent.call.session import CallSession
from agent.call.speech_cache import SpeechCache
from agent.compliance.callback import OfficialNumbers
from agent.compliance.guard import load_prohibited
from agent.config import Settings
from agent.dialogue.registry import ScriptRegistry
from agent.nlu.factory import build_nlu
from agent.server.ws import CLOSE_POLICY, CLOSE_TRY_AGAIN, Refused
from agent.store.errors import InvalidToken, StoreUnavailable
from agent.transports.base import CallStart

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Runtime:
    """Everything a call needs that is shared by all calls of this process."""

    settings: Settings
    engines: Any  # agent.engines.Engines
    store: Any  # agent.store.Store
    scripts: dict[tuple[str, str], Any] = field(default_factory=dict)
    registry: Any = None  # agent.dialogue.registry.ScriptRegistry
    nlu: dict[str, Any] = field(default_factory=dict)
    prohibited: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    cache: SpeechCache | None = None
    metrics: Any = None
    load_seconds: float = 0.0

    @classmethod
    def load(cls, settings: Settings, *, engines: Any = None, store: Any = None) -> Runtime:
        """Load models (unless given), scripts and NLU; open the store (blocking)."""
        started = time.perf_counter()
        if engines is None:
            from agent.engines import Engines

            engines = Engines.load(
                settings.engines.locales,
                models_dir=settings.models.dir,
                overrides=settings.models.paths,
                asr_threads=settings.engines.asr_threads,
                pool_workers=settings.engines.pool_workers,
                pool_queue=settings.engines.pool_queue,
            )
        if store is None:
            from agent.store.store import Store

            store = Store.open(
                settings.store.url,
                settings.store.phone_hash_key,
                default_jurisdiction=settings.compliance.jurisdiction,
                token_ttl_s=settings.compliance.token_ttl_s,
                max_attempts_per_day=settings.compliance.max_attempts_per_day,
                official_numbers=OfficialNumbers.parse(settings.compliance.official_numbers),
            )
        runtime = cls(settings=settings, engines=engines, store=store)
        runtime.reload_scripts()
        runtime.cache = SpeechCache(runtime._synthesize, settings.engines.tts_cache_entries)
        runtime.load_seconds = time.perf_counter() - started
        return runtime

    def reload_scripts(self) -> None:
        """Load every lint-clean script and each locale's NLU (rules + semantic layer)."""
        prompts = Path(self.settings.dialogue.prompts_dir)
        official = OfficialNumbers.parse(self.settings.compliance.official_numbers)
        self.registry = ScriptRegistry(prompts, official=official.contains)
        self.scripts = self.registry.scripts  # the registry replaces entries in place on reload
        for name, findings in self.registry.refused.items():
            log.error("script %s refused by the linter: %s", name, "; ".join(map(str, findings[:3])))
        for locale in self.settings.engines.locales:
            encoder = self.settings.models.paths.get("encoder-zh" if locale == "zh-CN" else "encoder-en")
            self.nlu[locale] = build_nlu(locale, prompts, encoder_path=encoder)
            self.prohibited[locale] = load_prohibited(prompts, locale)

    async def _synthesize(self, locale: str, text: str, priority: str) -> Any:
        speech = await self.engines.synthesize(locale, text, priority=priority)
        if self.metrics is not None:
            self.metrics.observe("tts_ms", speech.compute_ms)
        return speech.pcm16k

    def script_for(self, use_case: str, locale: str) -> Any:
        """The script serving `use_case` in `locale`, or a Refused naming what exists."""
        script = self.scripts.get((use_case, locale))
        if script is None:
            known = ", ".join(f"{case}/{loc}" for case, loc in sorted(self.scripts)) or "none"
            raise Refused(f"no script for {use_case} in {locale} (loaded: {known})")
        if locale not in self.nlu:
            raise Refused(f"locale {locale} is not enabled on this server (engines.locales)")
        return script

    async def admit(self, start: CallStart) -> CallSetup:
        """Check the start message's credentials and build the call's setup.

        Every call was granted by the pre-call gate (POST /v1/calls). The gateway proves it
        with that call's token, or with its shared secret (then the call id alone suffices).
        """
        if not start.call_id:
            raise Refused("the start message names no call_id; get one from POST /v1/calls")
        if self.settings.dialogue.reload and self.registry is not None:
            await asyncio.to_thread(self.registry.reload_if_changed)  # hot reload, old kept on failure
        if start.token:
            token: str | None = start.token
        elif self._secret_ok(start):
            token = None
        else:
            raise Refused("a call token (from POST /v1/calls) or the gateway's shared secret is required")
        try:
            claimed = await asyncio.to_thread(self.store.claim_call, start.call_id, token, datetime.now(UTC))
        except (InvalidToken, StoreUnavailable) as exc:
            code = CLOSE_TRY_AGAIN if isinstance(exc, StoreUnavailable) else CLOSE_POLICY
            raise Refused(f"call {start.call_id} not admitted: {exc}", code) from exc
        script = self.script_for(claimed.use_case, claimed.locale)
        return CallSetup(
            call_id=claimed.call_id,
            locale=claimed.locale,
            script=script,
            slots=dict(claimed.slots),
            today=_today(claimed.timezone),
            protocol=start.protocol,
        )

    def _secret_ok(self, start: CallStart) -> bool:
        expected = self.settings.transports.shared_secrets.get(start.protocol)
        if not expected:
            return False
        return start.secret is not None and hmac.compare_digest(start.secret, expected)

    def recorder(self) -> CallRecorder:
        """How calls write to the store."""
        return StoreRecorder(self.store)

    def new_session(self, setup: CallSetup, out: CallOutput) -> CallSession:
        """A session for an admitted call."""
        assert self.cache is not None
        return CallSession(
            setup,
            engines=self.engines,
            cache=self.cache,
            nlu=self.nlu[setup.locale],
            recorder=self.recorder(),
            out=out,
            config=self.settings.call,
            opt_out_key=self.settings.dialogue.opt_out_key,
            prohibited=self.prohibited.get(setup.locale, ()),
            on_metric=self.metrics.observe if self.metrics is not None else None,
        )


def _today(tz: str | None) -> date:
    """Today's date in the customer's time zone (or the server's when unknown)."""
    if tz:
        try:
            return datetime.now(ZoneInfo(tz)).date()
        except Exception:  # noqa: BLE001 - an unknown zone falls back to the server's date
            log.warning("unknown time zone %r; using the server's date", tz)
    return date.today()
