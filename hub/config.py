"""Settings: one typed tree read once from ``HUB_*`` environment variables (nested with ``__``).

Nothing else in the code base reads ``os.environ`` for configuration.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-change-me"


class HttpSettings(BaseModel):
    """Where the hub listens."""

    host: str = Field("127.0.0.1", description="Interface to bind; 0.0.0.0 in a container.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port (0 picks a free one).")
    public_url: str | None = Field(
        None, description="Base URL shown to people (console links, widget tag). Derived when unset."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Extra origins allowed to open the console WebSocket (the hub's own is always allowed).",
    )


class RoutingSettings(BaseModel):
    """The ACD's timing."""

    offer_timeout_s: float = Field(20.0, gt=0, description="How long an agent has to accept an offer.")
    presence_ttl_s: float = Field(30.0, gt=0, description="An agent without a heartbeat this long is offline.")
    tick_s: float = Field(0.5, gt=0, description="How often each process looks for expired offers and work.")
    reoffer_after_s: float = Field(
        30.0, ge=0, description="An agent who declined or missed an offer is offered it again only after this.")


class WebChatSettings(BaseModel):
    """The customer web-chat widget."""

    max_text_chars: int = Field(4000, gt=0, description="Longest customer message accepted.")
    max_frame_bytes: int = Field(16384, gt=0, description="Largest WebSocket frame accepted.")
    rate_per_minute: int = Field(60, gt=0, description="Messages per minute per visitor before rate limiting.")
    default_queue: str = Field("general", description="Queue new web-chat conversations start in.")


class BotSettings(BaseModel):
    """The Rasa bot in front of every conversation (off while ``rasa_url`` is unset)."""

    rasa_url: str | None = Field(None, description="Rasa server with --enable-api, e.g. http://127.0.0.1:5005.")
    timeout_s: float = Field(3.0, gt=0, description="A bot turn slower than this hands over (bot_unavailable).")
    confidence_threshold: float = Field(0.5, ge=0, le=1, description="Below this intent confidence: hand over.")
    max_fallbacks: int = Field(2, ge=1, description="Consecutive fallback turns before handing over.")
    human_intents: list[str] = Field(["talk_to_human"], description="Intents meaning 'a human, please'.")
    human_only_intents: list[str] = Field(
        ["complaint", "report_outage"], description="Intents only agents handle (handover by policy).")
    fallback_intents: list[str] = Field(["nlu_fallback", "out_of_scope"], description="Intents the bot did not get.")
    intent_queues: dict[str, str] = Field(
        {"check_bill": "billing", "pay_bill": "billing", "tariffs": "billing", "report_outage": "outages",
         "outage_status": "outages", "complaint": "complaints"},
        description="Queue of a handed-over conversation by its last intent (others: the web-chat default queue).")


class EmbeddedSettings(BaseModel):
    """Services the hub starts itself when no URL is configured (development and tests)."""

    data_dir: Path = Field(Path(".hub-data"), description="Where embedded SecantusDB and Redis keep data.")


class Settings(BaseSettings):
    """The whole configuration. ``HUB_MONGO_URL`` and ``HUB_REDIS_URL`` unset = embedded services."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_nested_delimiter="__", extra="ignore")

    mongo_url: SecretStr | None = Field(None, description="MongoDB URL (a replica set in production).")
    mongo_db: str = Field("hub", description="Database name.")
    redis_url: SecretStr | None = Field(None, description="Redis URL for routing state and fan-out.")
    secret_key: SecretStr = Field(
        SecretStr(DEV_SECRET),
        description="Signs web-chat visitor tokens. Set a long random value in production.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    http: HttpSettings = HttpSettings()
    routing: RoutingSettings = RoutingSettings()
    webchat: WebChatSettings = WebChatSettings()
    bot: BotSettings = BotSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()


    def production_problems(self) -> list[str]:
        """What must not reach production; checked when external MongoDB/Redis are configured."""
        problems = []
        if self.secret_key.get_secret_value() == DEV_SECRET or len(self.secret_key.get_secret_value()) < 32:
            problems.append("HUB_SECRET_KEY must be set to a random value of at least 32 characters")
        return problems


def load_settings() -> Settings:
    """Read and validate the configuration; raises pydantic's ValidationError with the field path."""
    return Settings()
