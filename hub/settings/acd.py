"""Settings: routing (our ACD) and agents' states. Part of ``hub.config.Settings``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.domain.agent_states import DEFAULT_PAUSE_REASONS, PauseKind


class RoutingSettings(BaseModel):
    """The ACD's timing."""

    offer_timeout_s: float = Field(20.0, gt=0, description="How long an agent has to accept an offer.")
    presence_ttl_s: float = Field(30.0, gt=0, description="An agent without a heartbeat this long is offline.")
    tick_s: float = Field(0.5, gt=0, description="How often each process looks for expired offers and work.")
    reoffer_after_s: float = Field(
        30.0, ge=0, description="An agent who declined or missed an offer is offered it again only after this.")
    queues_reread_s: float = Field(
        10.0, gt=0, description="How often each process reads the queue list its assigner looks at again (a queue "
                                "it puts work into is known at once; another process's new queue within this).")
    sweep_s: float = Field(
        30.0, gt=0, description="How often each process puts back in line what MongoDB says is queued but Redis "
                                "lost (an enqueue that failed while Redis was away).")


class AgentStatesSettings(BaseModel):
    """Agent states: the reason codes of a pause (hub.domain.agent_states, ADR 0026)."""

    pause_reasons: dict[str, PauseKind] = Field(
        default_factory=lambda: {code: kind.value for code, kind in DEFAULT_PAUSE_REASONS.items()},
        validate_default=True,
        description='The reason codes an agent may pause with, each "productive" or "rest" (JSON), e.g. '
                    '{"training": "productive", "lunch": "rest"}. Every pause keeps her out of routing.')
    missed_offers_limit: int = Field(
        3, ge=0, description="An available agent who lets this many offers in a row time out is paused by the hub "
                             "with the reason below (0: never). ADR 0041.")
    missed_offers_reason: str = Field(
        "missed_offers", min_length=1, max_length=100, pattern=r"^[a-z0-9_]+$",
        description="The pause reason the hub sets for missed offers (counted as rest; not in the agents' picker).")


class SnoozeSettings(BaseModel):
    """Snooze (ADR 0049): an agent sets a conversation she holds aside until a time."""

    poll_s: float = Field(15.0, gt=0, description="How often the hub looks for snoozes that are due or whose "
                                                   "customer wrote (sooner when one falls due).")
    wake_at: str = Field("09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                         description='The local time (HH:MM, the centre\'s zone HUB_KPI__TIME_ZONE) a "tomorrow" '
                                     "snooze wakes at.")
    max_days: int = Field(30, ge=1, le=365, description="The longest snooze, in days.")
