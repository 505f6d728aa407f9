"""One settings object: ``QA_*`` environment variables over an optional ``qa.toml``.

No other module reads the environment. Nested fields use ``__`` in variable names,
e.g. ``QA_WHISPER__MODEL=base-multilingual``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from qa_pipeline.bundled import bundled
from qa_pipeline.errors import ConfigError
from qa_pipeline.patterns import check_pattern, compile_pattern
from qa_pipeline.redact import Redactor


class Agent(BaseModel):
    """A known agent: how sources that lack agent fields (email) find them."""

    id: str
    name: str = ""
    team: str = ""
    emails: list[str] = Field(default_factory=list)
    # The agent's ids in help desks, e.g. "zendesk:394", "intercom:814", "freshdesk:51".
    aliases: list[str] = Field(default_factory=list)


class Route(BaseModel):
    """Which rubric scores which interactions: the first route whose team and channel match wins."""

    team: str | None = None  # None: any team
    channel: Literal["call", "chat", "email"] | None = None  # None: any channel
    rubric: Path


class CsvMapping(BaseModel):
    """How a generic chat CSV (one row per message) names its columns and roles."""

    conversation: str = "conversation_id"
    speaker: str = "from"
    text: str = "text"
    at: str = "at"
    agent_id: str = "agent_id"
    agent_name: str = "agent_name"
    team: str = "team"
    language: str = "language"
    customer: str = Field(default="customer", description="customer email, phone or id (repeat contacts)")
    # The file's role values -> ours (agent, customer, bot, note, system); compared lower-case.
    roles: dict[str, str] = Field(default_factory=dict)


class PullSource(BaseModel):
    """A help-desk API to pull from each night, since the last successful pull (its watermark)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="names the watermark and staging folder")
    format: str = Field(description="reader and expander: zendesk, intercom, freshdesk or generic")
    url: str = Field(
        description="first page, e.g. https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json"
    )
    key: str | None = Field(
        default=None, description="the records' list in each page (e.g. tickets); none: a list"
    )
    since_param: str | None = Field(
        default=None, description="query parameter for the watermark, e.g. start_time"
    )
    since_format: Literal["unix", "iso"] = "iso"
    token_env: str | None = Field(default=None, description="environment variable holding the API token")
    team: str | None = Field(default=None, description="team for pulled interactions that name none")
    retries: int = Field(default=5, ge=0, description="retries of a request answered 429/5xx")
    backoff_s: float = Field(default=1.0, ge=0, description="first back-off; doubles on each retry")


class ChatFiles(BaseModel):
    """Chat export files of one help desk and team: a path or glob (``{date}`` allowed)."""

    path: str
    format: str | None = Field(default=None, description="reader; default: chat_format")
    team: str | None = Field(default=None, description="team for interactions that name none")


class Sources(BaseModel):
    """Where the nightly batch reads from. Globs allowed; ``{date}`` is the night's date."""

    calls: list[str] = Field(default_factory=list)
    chats: list[str | ChatFiles] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)
    pulls: list[PullSource] = Field(default_factory=list)

    def chat_files(self) -> list[ChatFiles]:
        """Every chat source as ChatFiles (a plain string is a path with the default format)."""
        return [c if isinstance(c, ChatFiles) else ChatFiles(path=c) for c in self.chats]


class WhisperSettings(BaseModel):
    """Transcription choices (see ``qa_pipeline.transcribe``). Frozen: it keys the model cache."""

    model_config = ConfigDict(frozen=True)

    model: str = "tiny.en"
    # The registered transcriber (entry-point group qa_pipeline.transcribers) that runs it.
    engine: str = "faster-whisper"
    device: str = "cpu"
    compute_type: str = "int8"
    # Beam 5: on dense real speech, batched beam-1 decoding of 30 s windows dropped whole
    # sentences (WER 13.8% against 6.0% with beam 5, which is 26% slower: 31x against 42x
    # real time; plain sequential beam 5 was 6.5% at 22x: benchmarks/transcribe_results.md).
    beam_size: int = 5
    # >0: BatchedInferencePipeline with this batch size (VAD segments decoded together).
    batch_size: int = Field(default=4, ge=0)
    workers: int = Field(default=2, ge=1, description="calls transcribed at once, sharing one model")
    cpu_threads: int = 0  # per worker; 0: the machine's cores divided among the workers
    language: str | None = None  # None: the model's own (English for *.en), else detected
    cache_dir: Path | None = None  # reassembled models; None: ~/.cache/qa-pipeline/models
    # Languages detection may choose from (multilingual models only).
    languages: tuple[str, ...] = ("en", "cs", "sl", "lt", "ru")
    chunk_seconds: float = Field(
        default=300.0, ge=30, description="audio transcribed at a time: bounds memory"
    )


class WebSettings(BaseModel):
    """The web app (qa serve)."""

    model_config = ConfigDict(extra="forbid")

    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="a login lasts this long")
    # Behind HTTPS (directly or through a proxy): cookies are sent over HTTPS only.
    secure_cookies: bool = False
    # Single sign-on: a reverse proxy that authenticated the user names them in this header;
    # only requests from trusted_proxies are believed, and only for existing, enabled users.
    trusted_user_header: str | None = None
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    # Failed logins per username (clients: four times as many) before logins pause.
    login_attempts: int = Field(default=5, ge=1)
    login_window_minutes: float = Field(default=15.0, gt=0)
    page_size: int = Field(default=25, ge=5, le=500, description="search results per page")


class Settings(BaseSettings):
    """Everything configurable. Relative paths in a config file are read from its folder;
    from the environment or defaults, from the working directory."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_nested_delimiter="__", extra="forbid")

    database_url: str = "sqlite:///var/qa.db"
    data_dir: Path = Path("var")
    rubric: Path = Path("rubrics/default.yaml")
    # The classifier for rubric criteria with method model/hybrid; None: models/turns.skops.
    classifier: Path | None = None
    routing: list[Route] = Field(default_factory=list, description="per team/channel rubrics; else `rubric`")
    sources: Sources = Field(default_factory=Sources)
    agents: list[Agent] = Field(default_factory=list)
    agent_domains: list[str] = Field(default_factory=list)
    chat_format: str = "generic"
    chat_csv: CsvMapping = Field(default_factory=CsvMapping)
    # Extra PII patterns (regular expressions), replaced by [REDACTED], e.g. customer numbers.
    redact_patterns: list[str] = Field(default_factory=list)
    agent_channel: str = Field(
        default="left", pattern="^(left|right)$", description="stereo calls: agent side"
    )
    whisper: WhisperSettings = Field(default_factory=WhisperSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    batch_size: int = Field(default=8, ge=1, description="source files per ingest task")
    score_batch_size: int = Field(default=200, ge=1, description="interactions per scoring task")
    task_runner: str = Field(
        default="threads",
        description="'threads', 'processes' (max_workers of them), or 'dask' / 'dask://HOST:PORT'",
    )
    max_workers: int = 2
    alert_url: str | None = Field(
        default=None, description="after each nightly run: webhook (JSON) or Apprise URL"
    )
    ingest_retries: int = 2
    # Repeat contacts: the same customer again within this many days means the earlier
    # interaction was not resolved at first contact.
    fcr_window_days: float = Field(default=7.0, gt=0, description="first-contact resolution window")
    customer_key_secret: SecretStr | None = Field(
        default=None, description="secret for customer keys; none: one kept in DATA_DIR"
    )
    phone_region: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z]{2}$",
        description="country of national phone numbers (CZ, SI, LT, RU, GB...) for customer keys",
    )

    @field_validator("redact_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            problem = check_pattern(pattern)
            if problem:
                raise ValueError(f"{pattern!r}: {problem}")
        return patterns

    def token(self, source: PullSource) -> str | None:
        """The API token of a pull source, from the environment variable it names."""
        if not source.token_env:
            return None
        token = os.environ.get(source.token_env)
        if not token:
            raise ConfigError(f"pull source '{source.name}': set the environment variable {source.token_env}")
        return token

    def key_secret(self) -> bytes:
        """The installation's secret for customer keys and pseudonyms (see customers.py)."""
        from qa_pipeline.customers import load_secret

        secret = self.customer_key_secret.get_secret_value() if self.customer_key_secret else None
        return load_secret(secret, self.data_dir)

    def compiled_redactions(self) -> list[regex.Pattern[str]]:
        """The configured extra PII patterns, compiled (they run under a time limit)."""
        return [compile_pattern(p) for p in self.redact_patterns]

    def redactor(self) -> Redactor:
        """What everything the pipeline stores, writes or prints passes through."""
        from qa_pipeline.customers import keyer

        secret = self.key_secret()
        return Redactor(tuple(self.compiled_redactions()), secret, keyer(secret, self.phone_region))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (the parsed qa.toml) is passed in by load_settings; env vars win over it.
        return (env_settings, init_settings)

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def scorecard_dir(self) -> Path:
        return self.data_dir / "scorecards"

    def rubric_paths(self) -> list[Path]:
        """Every rubric this configuration routes to: the default and each route's."""
        paths = [self.rubric_path(r.team, r.channel) for r in self.routing] + [self.rubric_path(None, None)]
        return list(dict.fromkeys(paths))

    def rubric_path(self, team: str | None = None, channel: str | None = None) -> Path:
        """The rubric for a team and channel (first matching route, else ``rubric``).

        A relative path that does not exist here, under ``rubrics/``, is looked up among the
        rubrics shipped with qa-pipeline.
        """
        chosen = self.rubric
        for route in self.routing:
            if route.team in (None, team) and route.channel in (None, channel):
                chosen = route.rubric
                break
        if chosen.exists():
            return chosen
        if len(chosen.parts) == 2 and chosen.parts[0] == "rubrics":
            shipped = bundled("rubrics", chosen.name)
            return shipped if shipped.exists() else chosen
        return chosen


def _from(base: Path, value: Any) -> Any:
    """A relative path (or glob) in a config file, read from the file's folder ``base``.

    Configs written before this rule named paths from the working directory: when the path's
    first part exists there and not next to the config, that reading is kept.
    """
    if not isinstance(value, str) or not value or Path(value).is_absolute():
        return value
    first = Path(value).parts[0]
    if not (base / first).exists() and Path(first).exists():
        return value
    return os.path.normpath(base / value)


def relative_to_config(values: dict[str, Any], base: Path) -> dict[str, Any]:
    """``values`` from a config file with its relative paths resolved from ``base``."""
    values = dict(values)
    for key in ("data_dir", "rubric", "classifier"):
        if key in values:
            values[key] = _from(base, values[key])
    url = values.get("database_url")
    if isinstance(url, str) and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        values["database_url"] = "sqlite:///" + _from(base, url.removeprefix("sqlite:///"))
    if isinstance(values.get("routing"), list):
        values["routing"] = [
            {**r, "rubric": _from(base, r.get("rubric"))} if isinstance(r, dict) else r
            for r in values["routing"]
        ]
    if isinstance(values.get("whisper"), dict) and "cache_dir" in values["whisper"]:
        values["whisper"] = {**values["whisper"], "cache_dir": _from(base, values["whisper"]["cache_dir"])}
    sources = values.get("sources")
    if isinstance(sources, dict):
        sources = dict(sources)
        for key in ("calls", "emails", "chats"):
            if isinstance(sources.get(key), list):
                sources[key] = [
                    {**c, "path": _from(base, c["path"])}
                    if isinstance(c, dict) and "path" in c
                    else _from(base, c)
                    for c in sources[key]
                ]
        values["sources"] = sources
    return values


def load_settings(config: Path | None = None) -> Settings:
    """Return settings from ``config`` (or ``./qa.toml`` if present) and ``QA_*`` variables."""
    path = config if config is not None else Path("qa.toml")
    values: dict[str, Any] = {}
    if config is not None and not path.exists():
        raise ConfigError(f"config file {path} not found; pass an existing qa.toml or leave --config out")
    if path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file and run again") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); save the config as UTF-8") from None
        except RecursionError:
            raise ConfigError(f"{path}: nested too deeply to be a config file") from None
    values = relative_to_config(values, path.parent.resolve()) if path.exists() else values
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: setting '{where}': {first['msg']}") from exc
