"""Typed runtime configuration: defaults here, `config.yaml` over them, env vars over that.

Environment variables override any key as `VOICE_AGENT_<SECTION>__<KEY>`, for example
`VOICE_AGENT_STORE__URL=postgresql+psycopg://localhost/test`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
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


class ServerConfig(Section):
    host: str = "127.0.0.1"  # address `voice-agent serve` binds to
    port: int = Field(8080, ge=0, le=65535)  # TCP port (0 = any free port)
    api_keys: list[str] = ["dev-key-change-me"]  # keys accepted in X-API-Key for REST
    max_message_bytes: int = 65536  # largest WebSocket message a peer may send
    public_url: str = ""  # base URL the gateways reach us at (for docs and signature checks)


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
    tts_cache_dir: Path | None = Path("var/tts-cache")  # rendered zh-CN clauses kept on disk (null = off)
    tts_cache_mb: int = Field(512, ge=1)  # size bound of tts_cache_dir; least recently used files go first
    zh_asr_beam_size: int = Field(5, ge=1)  # zh-CN recogniser beam (5 measured best; 1 decodes faster)


class CallConfig(Section):
    vad_enter: float = 0.5  # speech probability that starts speech
    vad_exit: float = 0.35  # speech probability under which speech ends
    barge_in_min_ms: int = 180  # speech shorter than this never interrupts the agent
    endpoint_short_ms: int = 300  # silence that ends a turn whose transcript is a complete answer
    endpoint_long_ms: int = 700  # silence that ends any other turn
    partial_every_ms: int = 300  # how often a running transcript is made while the customer speaks
    min_turn_ms: int = 120  # speech shorter than this is treated as noise, not a turn
    no_input_ms: int = 6000  # silence after the agent stops before a no-input reprompt
    max_call_s: int = 300  # hard cap on call length
    max_agent_talk_s: int = 30  # hard cap on one agent utterance without a pause
    goodbye_grace_ms: int = 3000  # how long to wait for the goodbye to finish playing
    send_ahead_ms: int = 60  # agent audio sent ahead of real time (small, so barge-in can take it back)
    prerender: bool = True  # synthesise the likely next utterances ahead of need


class DialogueConfig(Section):
    prompts_dir: Path = Path("prompts")  # where scripts (YAML) live
    default_script: str = "repayment_reminder"  # use case when a call names none
    opt_out_key: str = "9"  # DTMF key that opts out in every state
    reload: bool = True  # hot-reload scripts when their files change


class StoreConfig(Section):
    url: str = "sqlite:///var/voice-agent.db"  # SQLAlchemy URL; PostgreSQL for several nodes
    phone_hash_key: str = "change-me-phone-hash-key"  # HMAC key for stored phone numbers


class ComplianceConfig(Section):
    jurisdiction: Literal["CN", "US"] = "US"  # default profile when a call names none
    max_attempts_per_day: int | None = None  # stricter daily cap than the profile (never looser)
    record_audio: bool = False  # keep call audio (off by default, SPEC 7.7)
    retention_days: int = 30  # how long recordings are kept when on
    token_ttl_s: int = 300  # life of a call token handed out by POST /v1/calls


class TransportsConfig(Section):
    shared_secrets: dict[str, str] = {}  # per-gateway shared secret: twilio, jambonz, freeswitch, ...
    twilio_auth_token: str = ""  # enables X-Twilio-Signature checks when set
    require_token: bool = True  # a transport connection needs a call token or a shared secret


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
