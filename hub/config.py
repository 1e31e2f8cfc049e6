"""Settings: one typed tree read once from ``HUB_*`` environment variables (nested with ``__``).

Nothing else in the code base reads ``os.environ`` for configuration.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.settings.acd import AgentStatesSettings, RoutingSettings, SnoozeSettings
from hub.settings.bot import BotSettings, TrainingSettings
from hub.settings.channels import EmailSettings, MailboxSettings, SmsSettings, TelegramSettings
from hub.settings.runtime import BusSettings, ConsumersSettings, EmbeddedSettings, MessagesSettings, OutboxSettings
from hub.settings.supervision import KpiSettings, NoticeSettings, ServiceLevelGoal, SurveySettings
from hub.settings.voice import QualitySettings, VoiceBotSettings, VoiceLanguageSettings, VoiceSettings
from hub.settings.web import HttpSettings, LoginSettings, WebChatSettings
from hub.settings.work import OutagesSettings, WorkOrdersSettings

DEV_SECRET = "dev-only-change-me"
MIN_SECRET_CHARS = 32
# A 32-character hex key has fewer than 10 different characters about once in 14,000 draws.
MIN_SECRET_DISTINCT_CHARS = 10


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
    lease_ttl_s: float = Field(
        15.0, gt=0, description="Work run by one process at a time (a mailbox's watcher, Telegram polling) moves "
                                "to another process this long after its holder died.")
    http: HttpSettings = HttpSettings()
    login: LoginSettings = LoginSettings()
    routing: RoutingSettings = RoutingSettings()
    agent_states: AgentStatesSettings = AgentStatesSettings()
    snooze: SnoozeSettings = SnoozeSettings()
    webchat: WebChatSettings = WebChatSettings()
    bot: BotSettings = BotSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    outbox: OutboxSettings = OutboxSettings()
    messages: MessagesSettings = MessagesSettings()
    bus: BusSettings = BusSettings()
    consumers: ConsumersSettings = ConsumersSettings()
    kpi: KpiSettings = KpiSettings()
    surveys: SurveySettings = SurveySettings()
    notices: NoticeSettings = NoticeSettings()
    work_orders: WorkOrdersSettings = WorkOrdersSettings()
    training: TrainingSettings = TrainingSettings()
    telegram: TelegramSettings = TelegramSettings()
    sms: SmsSettings = SmsSettings()
    email: EmailSettings = EmailSettings()
    voice: VoiceSettings = VoiceSettings()
    voice_bot: VoiceBotSettings = VoiceBotSettings()
    quality: QualitySettings = QualitySettings()
    outages: OutagesSettings = OutagesSettings()


    @property
    def development_mode(self) -> bool:
        """The hub runs on its embedded services: neither HUB_MONGO_URL nor HUB_REDIS_URL is set."""
        return self.mongo_url is None and self.redis_url is None

    def production_problems(self) -> list[str]:
        """What must not reach production; ``hub serve`` refuses to start on any outside development mode."""
        problems = []
        key = self.secret_key.get_secret_value()
        if key == DEV_SECRET or len(key) < MIN_SECRET_CHARS or len(set(key)) < MIN_SECRET_DISTINCT_CHARS:
            problems.append(f"HUB_SECRET_KEY must be set to a random value of at least {MIN_SECRET_CHARS} "
                            f"characters with at least {MIN_SECRET_DISTINCT_CHARS} different ones (the "
                            "development default, short keys and keys like 32 spaces are refused)")
        return problems


def load_settings() -> Settings:
    """Read and validate the configuration; raises pydantic's ValidationError with the field path."""
    return Settings()


__all__ = [
    "DEV_SECRET",
    "MIN_SECRET_CHARS",
    "MIN_SECRET_DISTINCT_CHARS",
    "AgentStatesSettings",
    "BotSettings",
    "BusSettings",
    "ConsumersSettings",
    "EmailSettings",
    "EmbeddedSettings",
    "HttpSettings",
    "KpiSettings",
    "LoginSettings",
    "MailboxSettings",
    "MessagesSettings",
    "NoticeSettings",
    "OutagesSettings",
    "OutboxSettings",
    "QualitySettings",
    "RoutingSettings",
    "ServiceLevelGoal",
    "Settings",
    "SmsSettings",
    "SnoozeSettings",
    "SurveySettings",
    "TelegramSettings",
    "TrainingSettings",
    "VoiceBotSettings",
    "VoiceLanguageSettings",
    "VoiceSettings",
    "WebChatSettings",
    "WorkOrdersSettings",
    "load_settings",
]
