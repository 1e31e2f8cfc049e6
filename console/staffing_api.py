"""The supervisors' staffing forecast (``GET /api/kpi/staffing``, docs/api.md "Staffing").

Supervisors and admins only (403 ``forbidden`` for agents and trainers); session and CSRF are the
console middleware's. The history is the ``kpi_intervals`` projection behind the
``hub.forecast.LoadHistory`` port; the forecast and the Erlang C staffing are ``hub.forecast`` and
``hub.staffing`` (pure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from console.api import require_supervisor
from console.auth import AGENT_KEY
from console.errors import api_error
from hub.clock import iso
from hub.forecast import (
    DEFAULT_WEEKS,
    HalfHourPlan,
    LoadHistory,
    QuarterLoad,
    day_bounds,
    days_with_data,
    forecast_day,
    history_of,
    past_days,
    plan_day,
)

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class StaffingSource:
    history: LoadHistory
    zone: ZoneInfo  # the centre's (HUB_KPI__TIME_ZONE): its local days and half hours


STAFFING = web.AppKey("staffing", StaffingSource)


class StaffingQuery(BaseModel):
    day: date = Field(alias="date")
    target_sl: float = Field(0.8, gt=0, lt=1)
    target_s: float = Field(20.0, ge=0, le=3600)
    max_occupancy: float = Field(0.85, gt=0, le=1)
    weeks: int = Field(DEFAULT_WEEKS, ge=1, le=26)
    default_aht_s: float = Field(180.0, gt=0, le=86_400)
    queue: str | None = Field(None, min_length=1, max_length=100)
    channel: str | None = Field(None, min_length=1, max_length=20)


def add_staffing_routes(app: web.Application, history: LoadHistory, time_zone: str) -> None:
    """Called by the composition root with the projection's store and the centre's IANA time zone."""
    app[STAFFING] = StaffingSource(history, ZoneInfo(time_zone))
    app.add_routes(routes)


def parse_query(query: Any) -> StaffingQuery:
    try:
        return StaffingQuery.model_validate(dict(query))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "query"
        raise api_error(400, "invalid_input", f"{where}: {first['msg']}") from None


@routes.get("/api/kpi/staffing")
async def get_staffing(request: web.Request) -> web.Response:
    require_supervisor(request[AGENT_KEY])
    query = parse_query(request.query)
    source = request.app[STAFFING]
    zone = source.zone
    days = past_days(query.day, query.weeks)
    loads: list[QuarterLoad] = []
    for day in days:
        start, end = day_bounds(day, zone)
        loads += await source.history.load_by_quarter(start, end, queue=query.queue, channel=query.channel)
    history = history_of(loads, days, zone)
    forecasts = forecast_day(history, query.day, zone, weeks=query.weeks, default_aht_s=query.default_aht_s)
    plans = plan_day(forecasts, target_sl=query.target_sl, target_s=query.target_s,
                     max_occupancy=query.max_occupancy)
    with_data = days_with_data((x.interval for x in loads), days, zone)
    return web.json_response({
        "date": query.day.isoformat(), "time_zone": zone.key, "queue": query.queue, "channel": query.channel,
        "target": {"service_level": query.target_sl, "seconds": query.target_s,
                   "max_occupancy": query.max_occupancy},
        "weeks": query.weeks, "history_days": [d.isoformat() for d in with_data],
        "peak_agents": max((p.staffing.agents for p in plans), default=0),
        "intervals": [plan_json(p) for p in plans],
    })


def plan_json(plan: HalfHourPlan) -> dict[str, Any]:
    f, s = plan.forecast, plan.staffing
    return {"start": iso(f.start), "local_start": f.local_start.isoformat(), "calls": round(f.calls, 2),
            "aht_s": round(f.aht_s, 1), "erlangs": round(s.erlangs, 3), "agents": s.agents,
            "service_level": round(s.service_level, 4), "asa_s": round(s.asa_s, 1),
            "occupancy": round(s.occupancy, 4), "wait_probability": round(s.wait_probability, 4),
            "samples": f.samples}
