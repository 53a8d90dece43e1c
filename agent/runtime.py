"""The process-wide runtime: models, scripts, NLU, store and speech cache, loaded once.

Every call shares these; `admit` turns a gateway's start message into a `CallSetup`
(checking the call token or the gateway's shared secret), `new_session` builds the call.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from agent.call.contracts import CallOutput, CallSetup, screens_answer
from agent.call.live import LiveBoard, LiveRecorder
from agent.call.recorder import CallRecorder, StoreRecorder
from agent.call.recording import PURGE_EVERY_S, CallAudio, purge_recordings, recording_path
from agent.call.script_units import constant_units, grant_units
from agent.call.session import CallSession
from agent.call.speech_cache import SpeechCache
from agent.call.units import plan, sentence_text
from agent.call.voice import speech_seconds
from agent.compliance.callback import OfficialNumbers
from agent.compliance.guard import load_prohibited
from agent.config import Settings
from agent.dialogue import engine as dialogue
from agent.dialogue import presynth
from agent.dialogue.events import Say
from agent.dialogue.registry import ScriptRegistry
from agent.nlu.factory import build_nlu
from agent.store.errors import InvalidToken, StoreUnavailable
from agent.transports.base import CallStart
from agent.transports.closes import CLOSE_POLICY, CLOSE_TRY_AGAIN, Refused
from agent.warmup import WarmReport, served_openings, warm

if TYPE_CHECKING:
    import numpy as np

    from agent.call.ports import CallEngines
    from agent.compliance.guard import ProhibitedRule
    from agent.dialogue.script import Script
    from agent.nlu.factory import NluPipeline
    from agent.server.metrics import Metrics
    from agent.store.store import Store

log = logging.getLogger(__name__)

PREPARE_LEAD_S = 2.0  # a granted call's opening is needed about this soon (the phone rings first)
WARM_WAIT_S = 30.0
"""A grant request or a gateway's call arriving while the server warms up is held this long
(then refused: HTTP 503 / the gateway's try-again close), so no call meets a cold model."""


@dataclass(slots=True)
class Runtime:
    """Everything a call needs that is shared by all calls of this process."""

    settings: Settings
    engines: CallEngines  # agent.engines.Engines, or agent.testing.fakes.FakeEngines
    store: Store
    scripts: dict[tuple[str, str], Script] = field(default_factory=dict)
    registry: ScriptRegistry | None = None
    nlu: dict[str, NluPipeline] = field(default_factory=dict)
    prohibited: dict[str, tuple[ProhibitedRule, ...]] = field(default_factory=dict)
    cache: SpeechCache | None = None
    metrics: Metrics | None = None
    load_seconds: float = 0.0
    warmed: bool = False  # the background warming of every slot-free sentence has started
    warmth: str = "cold"  # cold (nobody asked: library use) | warming | warm | failed (start_warm_up)
    warm_report: WarmReport | None = None
    warm_task: asyncio.Task[None] | None = None
    semantic_nlu: bool = True  # the NLU's sentence-encoder layer (a model) is loaded
    housekeeping: list[asyncio.Task[None]] = field(default_factory=list)  # warm-up, hourly purge
    live: LiveBoard = field(default_factory=LiveBoard)  # active calls, for the console's live view

    @classmethod
    def load(
        cls, settings: Settings, *, engines: CallEngines | None = None, store: Store | None = None,
        semantic_nlu: bool = True,
    ) -> Runtime:
        """Load models (unless given), scripts and NLU; open the store (blocking).

        `semantic_nlu=False` leaves the sentence encoder out (rules only: tests with fake engines).
        """
        started = time.perf_counter()
        if engines is None:
            from agent.engines import Engines

            engines = Engines.from_settings(settings)
        if store is None:
            from agent.store.store import Store

            store = Store.from_settings(settings)
        runtime = cls(settings=settings, engines=engines, store=store, semantic_nlu=semantic_nlu)
        runtime.reload_scripts()
        if hasattr(engines, "start_prefill"):  # slot-free sentences into the TTS disk cache, low priority
            from agent.dialogue.presynth import slot_free_sentences

            engines.start_prefill(slot_free_sentences(runtime.scripts.values()))
        runtime.cache = SpeechCache(runtime._synthesize, settings.engines.tts_cache_entries)
        runtime.purge_recordings()
        runtime.load_seconds = time.perf_counter() - started
        return runtime

    def reload_scripts(self) -> None:
        """Load every lint-clean script and each locale's NLU (rules + semantic layer)."""
        prompts = Path(self.settings.dialogue.prompts_dir)
        official = OfficialNumbers.parse(self.settings.compliance.official_numbers)
        from agent.console.publishing import bootstrap_shipped
        from agent.store.console_store import ConsoleStore

        approvals = ConsoleStore(self.store)  # only approved texts are served (four-eyes, SPEC 13)
        if self.settings.dialogue.approve_shipped:
            bootstrap_shipped(approvals, prompts, datetime.now(UTC))
        self.registry = ScriptRegistry(prompts, official=official.contains, approvals=approvals)
        self.scripts = self.registry.scripts  # the registry replaces entries in place on reload
        for name, findings in self.registry.refused.items():
            log.error("script %s refused by the linter: %s", name, "; ".join(map(str, findings[:3])))
        keep = getattr(self.engines, "keep_on_disk", None)
        if keep is not None:
            keep(self.same_on_every_call())
        for locale in self.settings.engines.locales:
            encoder = self.settings.models.paths.get("encoder-zh" if locale == "zh-CN" else "encoder-en")
            self.nlu[locale] = build_nlu(locale, prompts, encoder_path=encoder, semantic=self.semantic_nlu)
            self.prohibited[locale] = load_prohibited(prompts, locale)

    async def _synthesize(self, locale: str, text: str, priority: str, due: float | None) -> np.ndarray:
        speech = await self.engines.synthesize(locale, text, priority=priority, due=due)
        if self.metrics is not None:
            self.metrics.observe("tts_ms", speech.compute_ms)
        return speech.pcm16k

    def purge_recordings(self) -> int:
        """Delete call recordings past compliance.retention_days (blocking; also hourly once serving)."""
        cfg = self.settings.compliance
        removed = purge_recordings(cfg.recordings_dir, cfg.retention_days)
        if removed:
            log.info("deleted %d call recordings older than %d days", removed, cfg.retention_days)
        return removed

    async def _purge_hourly(self) -> None:
        while True:
            await asyncio.sleep(PURGE_EVERY_S)
            await asyncio.to_thread(self.purge_recordings)

    def start_warm_up(self) -> asyncio.Task[None]:
        """Begin the start-up warm-up (agent.warmup) in the running loop; the server's lifespan calls it.

        Until it ends, `ready` is False (GET /readyz answers 503) and `until_warm` holds grant
        requests and gateway calls. Calling it again while it runs, or after it ended, returns
        the same task.
        """
        if self.warm_task is None:
            self.warmth = "warming"
            self.warm_task = asyncio.ensure_future(self._warm_at_start())
        return self.warm_task

    async def _warm_at_start(self) -> None:
        assert self.cache is not None
        served = [loc for loc in self.settings.engines.locales if loc in self.nlu]
        cfg = self.settings.dialogue
        openings = served_openings(self.scripts, served, cfg.constant_slots, cfg.default_script)
        try:
            self.warm_report = await warm(self.engines, self.cache, self.nlu, openings)
        except Exception as exc:  # noqa: BLE001 - WarmUpFailed or worse: not ready, and logged
            log.error("warm-up failed, the server will not report ready: %s", exc)
            self.warmth = "failed"
            return
        self.warmth = "warm"
        self.warm_up()  # then every other slot-free sentence, at low priority

    def stop_warm_up(self) -> None:
        """Cancel a warm-up still running (the server is shutting down); a later start warms again."""
        if self.warm_task is not None and not self.warm_task.done():
            self.warm_task.cancel()
            self.warm_task, self.warmth = None, "cold"

    @property
    def ready(self) -> bool:
        """Models loaded and warmed: the server may take calls."""
        return self.engines is not None and self.warmth == "warm"

    async def until_warm(self, what: str) -> None:
        """Hold `what` (a call, a grant request) while the warm-up runs; Refused when it fails or lasts.

        A runtime nobody asked to warm (tests, `voice-agent chat`) passes at once.
        """
        if self.warmth == "warming" and self.warm_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self.warm_task), WARM_WAIT_S)
            except TimeoutError:
                raise Refused(f"{what} refused: the server is still warming up; try again",
                              CLOSE_TRY_AGAIN) from None
        if self.warmth in ("warming", "failed"):
            raise Refused(f"{what} refused: the server's warm-up failed (see its log)", CLOSE_TRY_AGAIN)

    def same_on_every_call(self) -> dict[str, list[str]]:
        """Locale -> what the scripts say the same on every call: their slot-free sentences, those
        completed by dialogue.constant_slots, and their words between per-call slots. Only this
        goes to the TTS disk cache; audio with a customer's name, amount or date stays in memory."""
        constants = self.settings.dialogue.constant_slots
        out: dict[str, dict[str, None]] = {}
        for (_, locale), script in sorted(self.scripts.items()):
            fixed = constants.get(locale, {})  # type: ignore[call-overload]
            bucket = out.setdefault(locale, {})
            bucket.update(dict.fromkeys(constant_units(script, fixed)))
            bucket.update(dict.fromkeys(presynth.fixed_sentences(script, fixed)))
        for locale, sentences in presynth.slot_free_sentences(self.scripts.values()).items():
            out.setdefault(locale, {}).update(dict.fromkeys(sentences))
        return {locale: list(texts) for locale, texts in out.items()}

    def warm_up(self) -> int:
        """Synthesise every sentence of every loaded script that is the same on every call (slot-free,
        or completed by dialogue.constant_slots), and the script's words between the slots of the
        others (agent.call.script_units), one at a time, at low priority.

        Call from the event loop (once; later calls do nothing). One job at a time, so the
        pool's queue never fills with it, and low jobs never run ahead of a live call's need
        (agent.workers). Returns how many sentences it will warm.
        """
        if self.warmed or self.cache is None:
            return 0
        self.warmed = True
        constants = self.settings.dialogue.constant_slots
        served = [(locale, script, constants.get(locale, {}))  # type: ignore[call-overload]
                  for (_, locale), script in sorted(self.scripts.items()) if locale in self.nlu]
        # the script's words between slots first: short, and else rendered live inside a reply
        sentences = [(loc, unit) for loc, script, fixed in served for unit in constant_units(script, fixed)]
        sentences += [(loc, sentence) for loc, script, fixed in served
                      for sentence in presynth.fixed_sentences(script, fixed)]
        self.housekeeping = [asyncio.ensure_future(self._purge_hourly()),
                             asyncio.ensure_future(self._warm(sentences))]
        return len(sentences)

    async def _warm(self, sentences: list[tuple[str, str]]) -> None:
        assert self.cache is not None
        for locale, sentence in dict.fromkeys(sentences):
            try:
                await self.cache.get(locale, sentence, priority="low")
            except Exception:  # warming is a nicety: a refused job is synthesised when needed
                log.debug("warm-up of %r skipped", sentence, exc_info=True)

    def prepare_call(self, use_case: str, locale: str | None, slots: Mapping[str, str]) -> int:
        """Start rendering a granted call's opening (greeting first) before the phone rings.

        Called by POST /v1/calls when the gate grants a call: by the time the gateway
        connects, the disclosure is synthesised. Needed soon, but after any live call's next
        sentence (PREPARE_LEAD_S). A sentence with this call's values is queued whole; one the
        same on every call and not rendered yet, clause by clause, as the call's voice will ask
        for it (agent.call.units.plan). Then, at low priority, the units with this call's values
        of the sentences that wait for the customer's (script_units.grant_units). Returns how
        many pieces were queued.
        """
        self.warm_up()
        locale = locale or self.settings.engines.locales[0]
        script = self.scripts.get((use_case, locale))
        if script is None or self.cache is None or locale not in self.nlu:
            return 0
        try:
            _, actions = dialogue.start(script, slots, today=date.today())
        except ValueError:
            return 0  # slots the script cannot say: the call will be refused when it connects
        due = asyncio.get_running_loop().time() + PREPARE_LEAD_S
        queued = 0
        fixed, cache = self.fixed_slots(locale, slots), self.cache

        def ready(text: str) -> bool:
            return cache.cached(locale, text) or cache.pending(locale, text)

        for say in (a for a in actions if isinstance(a, Say)):
            for pieces in say.sentences:
                whole = sentence_text(pieces)
                per_call = any(p.slot is not None and p.slot not in fixed for p in pieces)
                # this call's own sentence whole (its best prosody); the same on every call: as the voice asks
                for unit in [whole] if per_call else [u.text for u in plan(pieces, ready, fixed)]:
                    if not cache.cached(locale, unit):  # warmed at start-up: nothing to do
                        cache.prefetch(locale, unit, priority="high", due=due)
                        queued += 1
                    due += speech_seconds(unit)
        for part in grant_units(script, slots, fixed, date.today()):  # waiting for the customer's value
            if not (self.cache.cached(locale, part.text) or self.cache.pending(locale, part.text)):
                self.cache.prefetch(locale, part.text, priority="low")
                queued += 1
        return queued

    def fixed_slots(self, locale: str, slots: Mapping[str, str]) -> frozenset[str]:
        """The call's slots valued as dialogue.constant_slots says: spoken the same on every call."""
        constants = self.settings.dialogue.constant_slots.get(locale, {})  # type: ignore[call-overload]
        return frozenset(name for name, value in constants.items() if slots.get(name) == value)

    def script_for(self, use_case: str, locale: str) -> Script:
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

        Every call was granted by the pre-call gate (POST /v1/calls): the start message must
        name that call. The gateway proves it may run it with the call's token, or with its
        shared secret in place of the token; a secret never stands in for the grant itself.
        """
        if not start.call_id:
            raise Refused("the start message names no call_id; get one from POST /v1/calls")
        await self.until_warm(f"call {start.call_id}")  # before the claim: a refused call stays granted
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
        hashes = self.registry.hashes if self.registry is not None else {}
        return CallSetup(
            call_id=claimed.call_id,
            locale=claimed.locale,
            script=script,
            script_hash=hashes.get((claimed.use_case, claimed.locale), ""),
            slots=dict(claimed.slots),
            today=_today(claimed.timezone),
            protocol=start.protocol,
            jurisdiction=claimed.jurisdiction,
            screen=screens_answer(start.params),
            fixed_slots=self.fixed_slots(claimed.locale, claimed.slots),
        )

    def _secret_ok(self, start: CallStart) -> bool:
        expected = self.settings.transports.shared_secrets.get(start.protocol)
        if not expected:
            return False
        return start.secret is not None and hmac.compare_digest(start.secret.encode(), expected.encode())

    def recorder(self) -> CallRecorder:
        """How calls write to the store (and, after each write, to the console's live board)."""
        return LiveRecorder(StoreRecorder(self.store), self.live)

    def new_session(self, setup: CallSetup, out: CallOutput) -> CallSession:
        """A session for an admitted call."""
        assert self.cache is not None
        self.warm_up()
        cfg = self.settings.compliance
        recording = CallAudio(recording_path(cfg.recordings_dir, setup.call_id)) if cfg.record_audio else None
        session = CallSession(
            setup,
            recording=recording,
            engines=self.engines,
            cache=self.cache,
            nlu=self.nlu[setup.locale],
            recorder=self.recorder(),
            out=out,
            config=self.settings.call,
            prohibited=self.prohibited.get(setup.locale, ()),
            on_metric=self.live.metric_sink(
                setup.call_id, self.metrics.observe if self.metrics is not None else None
            ),
        )
        self.live.open(setup.call_id, setup.describe(), session.end_by_operator)
        return session


def _today(tz: str | None) -> date:
    """Today's date in the customer's time zone (or the server's when unknown)."""
    if tz:
        try:
            return datetime.now(ZoneInfo(tz)).date()
        except Exception:  # noqa: BLE001 - an unknown zone falls back to the server's date
            log.warning("unknown time zone %r; using the server's date", tz)
    return date.today()
