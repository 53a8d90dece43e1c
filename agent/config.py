"""Typed runtime configuration: defaults here, `config.yaml` over them, env vars over that.

Environment variables override any key as `VOICE_AGENT_<SECTION>__<KEY>`, for example
`VOICE_AGENT_STORE__URL=postgresql+psycopg://localhost/test`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

Locale = Literal["en-US", "zh-CN"]


class Section(BaseModel):
    """A config section: unknown keys are an error, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class RoleKey(Section):
    """An API key with a name (shown in the audit trail) and the roles it holds."""

    name: str = Field(min_length=1, max_length=64)  # who holds the key, e.g. dialer-1
    key: str = Field(min_length=16)  # the secret itself (voice-agent keys generate makes one)
    roles: list[str] = Field(min_length=1)  # names from agent/server/roles.py: operator, compliance, ...

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        from agent.server.roles import permissions

        permissions(roles)  # UnknownRole (a ValueError) names the bad one
        return roles


class ServerConfig(Section):
    host: str = "127.0.0.1"  # address `voice-agent serve` binds to
    port: int = Field(8080, ge=0, le=65535)  # TCP port (0 = any free port)
    api_keys: list[str] = ["dev-key-change-me"]  # simple form: each key has the admin role (demo, dev)
    role_keys: list[RoleKey] = []  # keys with roles: [{name: dialer-1, key: ..., roles: [dialer]}]
    metrics_public: bool = True  # false: /metrics needs a key with metrics-read
    docs_public: bool = True  # false: /docs, /redoc and /openapi.json need a key with docs-read
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)  # largest REST request body (a CSV import)
    max_message_bytes: int = 65536  # largest WebSocket message a peer may send
    public_url: str = ""  # base URL gateways reach us at (signature checks; dialer callback and media URLs)
    # signs /console session cookies; created (0600) at start when absent (null = a new one per process)
    console_secret_file: Path | None = Path("var/console-session.key")


class ModelsConfig(Section):
    dir: Path = Path("models")  # folder searched before the model packages
    paths: dict[str, Path] = {}  # explicit model paths by name: asr-en, asr-multi, tts-en, tts-zh, vad, ...


class EnginesConfig(Section):
    locales: list[Locale] = ["en-US"]  # locales whose models load at start-up
    asr_threads: int = Field(1, ge=1)  # ctranslate2 intra-op threads per ASR job
    pool_workers: int = Field(2, ge=1)  # threads running model jobs (ASR, TTS)
    pool_queue: int = Field(64, ge=1)  # jobs that may wait before new ones are refused
    tts_cache_entries: int = Field(512, ge=0)  # pre-rendered utterances kept in memory
    zh_voice: str = "zf_xiaobei"  # Kokoro Mandarin voice the zh-CN agent speaks with (zf_* female, zm_* male)
    zh_speed: float = Field(1.0, ge=0.5, le=2.0)  # Kokoro speaking rate of the zh-CN agent (1.0 = default)
    tts_cache_dir: Path | None = Path("var/tts-cache")  # rendered zh-CN clauses kept on disk (null = off)
    tts_cache_mb: int = Field(512, ge=1)  # size bound of tts_cache_dir; least recently used files go first
    zh_asr_beam_size: int = Field(5, ge=1)  # zh-CN recogniser beam (5 measured best; 1 decodes faster)
    zh_asr_window_s: float = Field(6.0, ge=1.0, le=30.0)  # shortest window zh-CN encodes per turn, s
    en_asr_beam_size: int = Field(5, ge=1)  # en-US recogniser beam (5 hears more opt-outs; 1 is faster)
    asr_runner_ups: int = Field(4, ge=0)  # runner-up readings a final turn keeps to doubt an opt-out (0: off)
    vad_thread: bool = True  # every call's VAD on one thread beside the event loop (false: on the loop)


class CallConfig(Section):
    vad_enter: float = 0.5  # speech probability that starts speech
    vad_exit: float = 0.35  # speech probability under which speech ends
    barge_in_min_ms: int = 180  # speech shorter than this never interrupts the agent
    endpoint_short_ms: int = 300  # silence that ends a turn whose transcript is a complete answer
    endpoint_long_ms: int = 700  # silence that ends any other turn
    partial_every_ms: int = 600  # how often a running transcript is made while the customer speaks (0 = off)
    min_turn_ms: int = 120  # speech shorter than this is treated as noise, not a turn
    no_input_ms: int = 6000  # silence after the agent stops before a no-input reprompt
    max_call_s: int = 300  # hard cap on call length
    max_agent_talk_s: int = 30  # hard cap on one agent utterance without a pause
    goodbye_grace_ms: int = 3000  # how long to wait for the goodbye to finish playing
    send_ahead_ms: int = 60  # agent audio sent ahead of real time to a gateway that plays what it gets
    # ... to one that buffers it (all shipped adapters): stalls this long are not heard; clear takes it back
    gateway_lead_ms: int = Field(400, ge=0)
    prerender: bool = True  # synthesise the likely next utterances ahead of need
    media_gap_ms: int = Field(200, ge=0)  # inbound audio missing this long counts as silence (0 = off)


class DialogueConfig(Section):
    prompts_dir: Path = Path("prompts")  # where scripts (YAML) live
    default_script: str = "repayment_reminder"  # use case POST /v1/calls runs when the request names none
    reload: bool = True  # hot-reload scripts when their files change (an unapproved text stays a draft)
    approve_shipped: bool = True  # at start, approve shipped scripts whose text matches the release manifest
    # slot values every call of this deployment shares, per locale (the lender's name): the opening
    # sentences they complete are rendered before the server reports ready (shipped: the demo's lender)
    constant_slots: dict[Locale, dict[str, str]] = {
        "en-US": {"company_name": "Acme Finance"}, "zh-CN": {"company_name": "安心金融"},
    }


class StoreConfig(Section):
    url: str = "sqlite:///var/voice-agent.db"  # SQLAlchemy URL; PostgreSQL for several nodes
    phone_hash_key: str = "change-me-phone-hash-key"  # HMAC key for stored phone numbers
    data_key: str = "dm9pY2UtYWdlbnQgc2hpcHBlZCBkZXYgZGF0YSBrZXk="  # AES-256-GCM key, base64: names, slots
    sweep_every_s: int = Field(60, ge=1)  # how often expired grants and dead claimed calls are closed


class ComplianceConfig(Section):
    jurisdiction: Literal["CN", "US"] = "US"  # default profile when a call names none
    max_attempts_per_day: int | None = None  # stricter daily cap than the profile (never looser)
    record_audio: bool = False  # keep both sides of every call in a WAV under recordings_dir (SPEC 7.7)
    retention_days: int = Field(30, ge=1)  # recordings older than this are deleted (start-up, then hourly)
    token_ttl_s: int = 300  # life of a call token handed out by POST /v1/calls
    # the lender's registered numbers (shipped: the demo's fictional ones); callback_number must be one
    official_numbers: list[str] = ["+1 800 555 0123", "+86 400 800 1234"]
    # Ed25519 key that signs audit checkpoints; created (0600) at serve start when absent
    checkpoint_key_file: Path = Path("var/audit-signing.key")
    checkpoint_interval_s: int = Field(300, ge=0)  # seconds between signed checkpoints (0 = at shutdown only)
    node_id: str = ""  # this node's name in signed audit checkpoints (empty = the host name)
    recordings_dir: Path = Path("var/recordings")  # where call recordings go when record_audio is on

    @field_validator("official_numbers")
    @classmethod
    def _international(cls, numbers: list[str]) -> list[str]:
        for number in numbers:
            digits = sum(ch.isdigit() for ch in number)
            if not number.strip().startswith("+") or not 8 <= digits <= 15:
                raise ValueError(f"write {number!r} as an international number with its +country code")
        return numbers


class TransportsConfig(Section):
    shared_secrets: dict[str, str] = {}  # per-gateway secret that may stand in for a granted call's token
    twilio_auth_token: str = ""  # when set, Twilio upgrades need an X-Twilio-Signature of server.public_url


class TwilioDialConfig(Section):
    account_sid: str = ""  # Twilio account SID that places campaign calls (empty = no Twilio dialling)
    auth_token: str = ""  # its auth token (REST auth; also signs the status callbacks it sends)
    api_base: str = "https://api.twilio.com"  # Twilio REST base URL
    machine_detection: bool = False  # ask Twilio for AnsweredBy (answering-machine detection)


class AsteriskDialConfig(Section):
    ari_url: str = ""  # Asterisk ARI base URL, e.g. http://pbx:8088 (empty = no Asterisk dialling)
    ari_user: str = ""  # ARI user (ari.conf)
    ari_password: str = ""  # ARI password
    context: str = "voice-agent-outbound"  # dialplan context that Dial()s WebSocket/voice_agent
    endpoint: str = "PJSIP/{number}@trunk"  # dial string for the customer's number


class FreeswitchDialConfig(Section):
    esl_host: str = ""  # FreeSWITCH Event Socket host (empty = no FreeSWITCH dialling)
    esl_port: int = Field(8021, ge=1, le=65535)  # Event Socket port (event_socket.conf.xml listen-port)
    esl_password: str = ""  # Event Socket password (FreeSWITCH's shipped ClueCon is refused off loopback)
    endpoint: str = "sofia/gateway/trunk/{number}"  # dial string for the customer's number
    target: str = "&park()"  # what the answered channel runs: &park(), or '<extension> XML <context>'
    sample_rate: Literal[8000, 16000] = 8000  # uuid_audio_fork rate, both ways
    reconnect_s: float = Field(2.0, gt=0, le=60)  # wait between Event Socket reconnect attempts
    lost_after_s: float = Field(60.0, gt=0)  # calls in flight end as failed when the socket is down this long


class JambonzDialConfig(Section):
    api_base: str = ""  # jambonz REST base URL, e.g. https://jz.example.com/api (empty = no jambonz dialling)
    account_sid: str = ""  # the jambonz account that places campaign calls
    api_key: str = ""  # an API key of that account (REST Bearer auth)
    sample_rate: Literal[8000, 16000, 24000, 32000, 48000, 64000] = 8000  # `listen` audio rate, both ways
    machine_detection: bool = False  # ask jambonz's amd to report answering machines


class CampaignsConfig(Section):
    dialer: bool = False  # run the campaign dialer in this server process
    node_id: str = ""  # this node's name in the shared store, unique per dialer process (empty = host name)
    node_slots: int = Field(8, ge=0)  # calls this node takes at once; the dialer never exceeds them
    tick_ms: int = Field(1000, ge=50)  # how often the dialer looks for due attempts
    ring_timeout_s: int = Field(30, ge=5, le=120)  # how long a campaign call may ring
    number_key: str = "change-me-campaign-number-key"  # seals members' numbers for dialling (AES-GCM)
    caller_id_secret: str = "change-me-caller-id-secret"  # keys each member's fixed caller ID
    callback_secret: str = "change-me-callback-secret"  # signs gateway callback and hook URLs
    twilio: TwilioDialConfig = TwilioDialConfig()
    asterisk: AsteriskDialConfig = AsteriskDialConfig()
    freeswitch: FreeswitchDialConfig = FreeswitchDialConfig()
    jambonz: JambonzDialConfig = JambonzDialConfig()


class LoggingConfig(Section):
    level: str = "INFO"  # minimum level logged
    format: Literal["auto", "json", "console"] = "auto"  # auto = console on a terminal, JSON otherwise


class Settings(BaseSettings):
    """The whole configuration; every key has a default so an empty config.yaml works."""

    model_config = SettingsConfigDict(
        env_prefix="VOICE_AGENT_", env_nested_delimiter="__", extra="forbid"
    )

    server: ServerConfig = ServerConfig()
    models: ModelsConfig = ModelsConfig()
    engines: EnginesConfig = EnginesConfig()
    call: CallConfig = CallConfig()
    dialogue: DialogueConfig = DialogueConfig()
    store: StoreConfig = StoreConfig()
    compliance: ComplianceConfig = ComplianceConfig()
    transports: TransportsConfig = TransportsConfig()
    logging: LoggingConfig = LoggingConfig()
    campaigns: CampaignsConfig = CampaignsConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_path = os.environ.get("VOICE_AGENT_CONFIG", "config.yaml")
        return (
            init_settings,
            env_settings,
            YamlConfigSettingsSource(settings_cls, yaml_file=yaml_path),
        )


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and what is allowed."""


def load_settings(path: Path | None = None, **overrides: object) -> Settings:
    """Load config.yaml (or `path`) with env overrides; raise ConfigError with a readable message."""
    if path is not None:
        os.environ["VOICE_AGENT_CONFIG"] = str(path)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"config key '{where}': {first['msg']}") from exc
