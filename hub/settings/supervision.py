"""Settings: what supervisors measure and what customers are asked and told: KPIs, surveys, notices.

Part of ``hub.config.Settings``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator

from hub.kpi_intervals import WAIT_EDGES_S


class ServiceLevelGoal(BaseModel):
    """A service-level goal: answered within ``seconds`` for ``target`` of the calls and chats."""

    seconds: int = Field(20, description="The answer-time threshold; one of the projection's wait edges "
                         "(5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300).")
    target: float = Field(0.8, gt=0, le=1, description="The share to reach (0.8 = 80 %).")

    @field_validator("seconds")
    @classmethod
    def _on_an_edge(cls, value: int) -> int:
        if value not in WAIT_EDGES_S:
            raise ValueError(f"must be one of {', '.join(map(str, WAIT_EDGES_S))} (the kpi_intervals wait edges)")
        return value


class KpiSettings(BaseModel):
    """Supervisors' figures (docs/kpis.md): the centre's time zone and the service-level goals."""

    time_zone: str = Field("Asia/Shanghai", description="The centre's IANA time zone: local days and weeks of "
                           "the history and of /api/kpi/today (intervals are stored in UTC).")
    service_level_s: int = Field(20, description="Default answer-time threshold of the service level (s); one "
                                 "of 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300.")
    service_level_target: float = Field(0.8, gt=0, le=1, description="Default service-level target (0.8 = 80 %).")
    fcr_days: int = Field(7, ge=1, le=90, description="First-contact resolution: a resolved conversation whose "
                          "contact opens no new one in the same queue within this many days (decided after them).")
    queue_service_levels: dict[str, ServiceLevelGoal] = Field(
        default_factory=dict, description='Per queue goals (JSON), e.g. {"outages": {"seconds": 10, '
                                          '"target": 0.9}}; other queues use the defaults.')

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name like Asia/Shanghai)") from None
        return value

    @field_validator("service_level_s")
    @classmethod
    def _default_on_an_edge(cls, value: int) -> int:
        return ServiceLevelGoal._on_an_edge(value)


class SurveySettings(BaseModel):
    """Satisfaction surveys after resolve (docs/operations.md, "Surveys")."""

    enabled: bool = Field(True, description="Ask customers to score a conversation an agent resolved (1-5).")
    webchat: bool = Field(True, description="Survey web chats (stars in the widget).")
    sms: bool = Field(True, description="Survey SMS conversations (the reply is read as the score).")
    telegram: bool = Field(True, description="Survey Telegram conversations (buttons 1-5).")
    email: bool = Field(True, description="Survey e-mail conversations (a signed link to a one-question page).")
    voice: bool = Field(True, description="Survey calls by keypad after the agent hangs up "
                        "(HUB_VOICE__SURVEY_AFTER_CALL); the score closes the call's conversation at its resolve.")
    expiry_h: float = Field(24.0, gt=0, description="An unanswered survey ends this many hours after it was asked; "
                            "later messages are ordinary ones.")
    link_expiry_h: float = Field(72.0, gt=0, description="How long the e-mail survey link stays valid.")
    max_age_h: float = Field(24.0, gt=0, description="Resolves older than this are not surveyed (a new hub or a "
                             "rebuilt consumer does not ask the whole history).")
    questions: dict[str, str] = Field(default_factory=dict, description='The question per language (JSON), e.g. '
                                      '{"en": "Rate us 1-5", "zh": "请评价1-5"}; others use the built-in text.')
    page_per_minute: float = Field(20.0, gt=0, description="Survey page requests per minute per client address.")
    open_reread_s: float = Field(10.0, gt=0, description="How often (at most, and only while messages arrive) each "
                                 "process reads which addresses were asked a survey; one asked by another process "
                                 "is known at once from its fact (ADR 0058).")

    def channels(self) -> dict[str, bool]:
        return {"webchat": self.webchat, "sms": self.sms, "telegram": self.telegram, "email": self.email,
                "voice": self.voice}


class NoticeSettings(BaseModel):
    """What the customer is told on handover and resolve, and the web chat's offline form
    (docs/operations.md, "Customer notices and business hours")."""

    enabled: bool = Field(False, description="Tell customers \"connecting you to an agent\" (with the queue "
                          "position, or when a closed queue opens) on handover and a closing line on an agent's "
                          "resolve, on their channel and in their language.")
    max_age_h: float = Field(1.0, gt=0, description="Events older than this are not told (a new hub or a rebuilt "
                             "consumer does not talk to the whole history).")
    texts: dict[str, dict[str, str]] = Field(default_factory=dict, description='Texts per language overriding the '
                                             'built-in zh and en ones (JSON), keys handover, position, wait, closed, '
                                             'resolved; e.g. {"en": {"closed": "Back at {opens}"}}.')
    offline_per_minute: float = Field(5.0, gt=0, description="Offline-form messages per minute per client address "
                                      "(the web chat's form when no agent is available or the queue is closed).")
