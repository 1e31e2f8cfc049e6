"""Settings: work orders and outage notices. Part of ``hub.config.Settings``."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class WorkOrdersSettings(BaseModel):
    """Work orders (docs/operations.md, "Work orders"): SLA timers, the working calendar, the sweep.

    Templates default to the utility's public commitments (hub/work_orders/sla.py): a repair crew on
    site in 45 / 90 / 120 min (urban / rural / remote, 24/7), complaints contacted within 1 working day
    and answered within 7. The working calendar runs in ``HUB_KPI__TIME_ZONE``."""

    enabled: bool = Field(True, description="Work orders in this hub (API, SLA sweep, survey replies).")
    sweep_s: float = Field(30.0, gt=0, description="How often the SLA sweep reads the open orders (one process "
                                                   "at a time, under a lease); a change wakes it sooner.")
    warn_at_pct: float = Field(80.0, gt=0, lt=100, description="An SLA timer warns when this share of its budget "
                                                               "is used.")
    day_start: str = Field("08:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                           description="Working hours start (local time) for timers in working days.")
    day_end: str = Field("17:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
                         description="Working hours end (local time).")
    workdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4],
                                description="Working weekdays as JSON, Monday = 0.")
    holidays: list[str] = Field(default_factory=list, description='Public holidays (JSON list of YYYY-MM-DD), e.g. '
                                '["2026-10-01", "2026-10-02"]: no working time on them.')
    extra_workdays: list[str] = Field(default_factory=list, description="Weekend days worked instead of a holiday "
                                      "(调休), JSON list of YYYY-MM-DD.")
    repair_arrival_min: dict[str, float] = Field(
        default_factory=lambda: {"urban": 45.0, "rural": 90.0, "remote": 120.0},
        description="A repair's first response (crew on site), minutes on a 24/7 clock, per area.")
    repair_resolution_h: float = Field(24.0, gt=0, description="A repair's resolution, hours on a 24/7 clock.")
    first_response_days: float = Field(1.0, gt=0, description="Other types' first response, in working days.")
    survey_by_call: bool = Field(True, description="With voice on, the callback survey of a closed order whose "
                                 "customer has a phone is a call (keypad 1-5); otherwise the SMS question.")
    survey_call_attempts: int = Field(2, ge=1, le=10, description="Survey calls not answered (or busy) before the "
                                                                  "SMS question goes instead.")
    survey_call_retry_s: float = Field(600.0, gt=0, description="Wait between survey calls not answered.")
    survey_call_question: str = Field(
        "This is Northgrid Power about the work order we just closed. How satisfied are you with it? "
        "Press a key from 1, very dissatisfied, to 5, very satisfied.",
        description="The survey call's question (spoken with HUB_VOICE__SURVEY_VOICE).")
    resolution_days: dict[str, float] = Field(
        default_factory=lambda: {"complaint": 7.0, "consultation": 5.0, "meter": 5.0, "billing_dispute": 7.0},
        description="Other types' resolution (the department's reply), in working days, per type.")

    @field_validator("holidays", "extra_workdays")
    @classmethod
    def _dates(cls, values: list[str]) -> list[str]:
        from datetime import date  # only this validator needs it

        for value in values:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date like 2026-10-01") from None
        return values


class OutagesSettings(BaseModel):
    """Outage notices by SMS and the bot's outage answers (docs/operations.md, "Outage notices")."""

    sms_per_s: float = Field(20.0, gt=0, le=10_000, description="Notice SMS handed to Kannel per second, all "
                                                              "notices together (the operator's contracted rate).")
    reconcile_s: float = Field(60.0, gt=0, description="A notice SMS a dead process left half-sent, with no "
                                                      "delivery report this long after, is sent again.")
    poll_s: float = Field(30.0, gt=0, description="How often the notice sender looks for notices it was not "
                                                 "told of (a notice starts at once: its fact wakes the sender).")
    intent: str = Field("outage_status", description="The bot intent answered from the outage table.")
