"""Supervisors' KPI history (``/api/kpi/*``, docs/api.md "KPIs"; definitions in docs/kpis.md).

Supervisors and admins read every figure; a team leader her members' work only (the one rule's
``figures_sight``; docs/kpis.md "Team leaders"); agents and trainers get 403. Days are the centre's local days
(``HUB_KPI__TIME_ZONE``); the figures come from the ``kpi_intervals`` projection, which follows
the event table within ``HUB_CONSUMERS__POLL_S``.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any, get_args

from aiohttp import web

from console.auth import AGENT_KEY
from console.errors import api_error
from console.keys import HUB
from hub.clock import iso
from hub.domain.model import Agent
from hub.domain.visibility import figures_sight
from hub.kpi_figures import FIGURE_NAMES, RATIOS, SECONDS, By, Group, Row
from hub.kpi_reports import DRILLS, Drill, DrillFilter, KpiReports

REPORTS = web.AppKey("kpi_reports", KpiReports)
routes = web.RouteTableDef()
GROUP_COLUMN = {"none": None, "queue": "queue", "channel": "channel", "agent": "agent", "team": "team"}
CSV_UNSAFE = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


def add_kpi_routes(app: web.Application, reports: KpiReports) -> None:
    """Called by the composition root, next to the console's own routes."""
    app[REPORTS] = reports
    app.add_routes(routes)


def _sight(agent: Agent) -> frozenset[str] | None:
    """Whose work ``agent`` may read: None for everyone's (403 for agents and trainers)."""
    sight = figures_sight(agent)
    if not sight.visible:
        raise api_error(403, "forbidden", "supervisors, team leaders and admins only")
    return sight.agents


def _day(request: web.Request, name: str) -> date:
    try:
        return date.fromisoformat(request.query[name])
    except KeyError:
        raise api_error(400, "invalid_input", f"{name} (YYYY-MM-DD) is required") from None
    except ValueError:
        raise api_error(400, "invalid_input", f"{name} must be a date YYYY-MM-DD") from None


def _choice(request: web.Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query.get(name, default)
    if value not in choices:
        raise api_error(400, "invalid_input", f"{name} must be one of {', '.join(choices)}")
    return value


@routes.get("/api/kpi/history")
async def get_history(request: web.Request) -> web.StreamResponse:
    agents = _sight(request[AGENT_KEY])
    first, last = _day(request, "from"), _day(request, "to")
    by: By = _choice(request, "by", get_args(By), "day")  # type: ignore[assignment]
    group: Group = _choice(request, "group", get_args(Group), "none")  # type: ignore[assignment]
    as_csv = _choice(request, "format", ("json", "csv"), "json") == "csv"
    reports = request.app[REPORTS]
    try:
        found = await reports.history(first, last, by, group, request.app[HUB].clock.now(), agents)
    except ValueError as err:
        raise api_error(400, "invalid_input", str(err)) from None
    table = [row_json(reports, row, group) for row in found]
    if as_csv:
        return csv_response(to_csv(table, group), f"kpi-{first.isoformat()}-{last.isoformat()}-{by}-{group}.csv")
    return web.json_response({"from": first.isoformat(), "to": last.isoformat(), "by": by, "group": group,
                              "time_zone": reports.zone.key, "scope": scope_json(agents), "rows": table})


@routes.get("/api/kpi/today")
async def get_today(request: web.Request) -> web.Response:
    agents = _sight(request[AGENT_KEY])
    reports, hub = request.app[REPORTS], request.app[HUB]
    today = await reports.today(hub.clock.now(), agents)
    rule = reports.rule()
    return web.json_response({
        "day": today.day.isoformat(), "time_zone": reports.zone.key, "from": iso(today.start), "now": iso(today.now),
        "scope": scope_json(agents),
        "service_level_s": rule.seconds, "service_level_target": rule.target,
        "total": live_json(reports, today.total[0] if today.total else None, None),
        "queues": [{"queue": r.key, **live_json(reports, r, r.key)} for r in today.queues],
        "channels": [{"channel": r.key, **live_json(reports, r, None)} for r in today.channels],
    })


@routes.get("/api/kpi/conversations")
async def get_conversations(request: web.Request) -> web.Response:
    agents = _sight(request[AGENT_KEY])
    first, last = _day(request, "from"), _day(request, "to")
    figure = _choice(request, "figure", tuple(DRILLS), "answered")
    as_csv = _choice(request, "format", ("json", "csv"), "json") == "csv"
    where = DrillFilter(queue=request.query.get("queue") or None, channel=request.query.get("channel") or None,
                        agent=request.query.get("agent") or None, agents=agents)
    if agents is not None and where.agent is not None and where.agent not in agents:
        raise api_error(403, "forbidden", "not a member of your team")
    try:
        drill = await request.app[REPORTS].drill(first, last, figure, where)
    except ValueError as err:
        raise api_error(400, "invalid_input", str(err)) from None
    except PermissionError as err:
        raise api_error(403, "forbidden", str(err)) from None
    shown = drill_json(request.app[REPORTS], drill)
    if as_csv:
        filename = f"kpi-{figure}-{first.isoformat()}-{last.isoformat()}.csv"
        return csv_response(table_csv(DRILL_COLUMNS, shown["conversations"]), filename)
    return web.json_response(shown)


# -- JSON and CSV shapes (docs/api.md "KPIs") ---------------------------------------------------------

def row_json(reports: KpiReports, row: Row, group: Group) -> dict[str, Any]:
    column = GROUP_COLUMN[group]
    rule = reports.rule(row.key if group == "queue" else None)
    return {"period": row.period.label, "start": iso(row.period.start), "end": iso(row.period.end),
            **({column: row.key} if column else {}), **row.figures(group).to_json(),
            "service_level_s": rule.seconds, "service_level_target": rule.target}


LIVE_FIGURES = ("offered", "answered", "abandoned", "abandoned_short", "service_level", "asa_s", "longest_wait_s",
                "handled", "aht_s", "occupancy", "surveys_answered", "csat", "csat_mean")
NOT_ZERO = RATIOS | SECONDS | {"csat_mean"}  # undefined without a denominator: null, never 0


def scope_json(agents: frozenset[str] | None) -> dict[str, Any]:
    """``team``: the figures are the listed agents' work only; queue figures are null."""
    return {"kind": "all"} if agents is None else {"kind": "team", "agents": sorted(agents)}


def live_json(reports: KpiReports, row: Row | None, queue: str | None) -> dict[str, Any]:
    figures = row.figures("none").to_json() if row else {}  # a scoped row knows it is agents' work
    rule = reports.rule(queue)
    return {**{name: figures.get(name, None if name in NOT_ZERO else 0) for name in LIVE_FIGURES},
            **({"service_level_s": rule.seconds, "service_level_target": rule.target} if queue else {})}


def drill_json(reports: KpiReports, drill: Drill) -> dict[str, Any]:
    out = []
    for line in drill.lines:
        conversation = line.conversation
        out.append({"conversation_id": line.event.conversation_id, "event": line.event.type,
                    "at": iso(line.event.at), "local_time": line.event.at.astimezone(reports.zone).isoformat(),
                    "channel": line.event.channel, "queue": line.bucket.queue or None,
                    "agent": line.bucket.agent or None,
                    "contact_name": conversation.contact_name if conversation else None,
                    "state": conversation.state if conversation else None,
                    "created_at": iso(conversation.created_at) if conversation else None,
                    "score": int(line.event.detail["score"]) if "score" in line.event.detail else None})
    return {"figure": drill.figure, "conversations": out, "truncated": drill.truncated}


def csv_cell(value: Any) -> str:
    """A figure as a spreadsheet shows it: ratios in %, seconds with one decimal, text made inert."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    return "'" + text if text.startswith(CSV_UNSAFE) else text


DRILL_COLUMNS = ("conversation_id", "event", "at", "local_time", "channel", "queue", "agent", "contact_name", "state",
                 "created_at", "score")


def csv_response(text: str, filename: str) -> web.Response:
    return web.Response(text=text, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def to_csv(table: list[dict[str, Any]], group: Group) -> str:
    column = GROUP_COLUMN[group]
    header = ("period", "start", *([column] if column else []), *FIGURE_NAMES, "service_level_s",
              "service_level_target")
    return table_csv(header, table)


def table_csv(header: tuple[str, ...], table: list[dict[str, Any]]) -> str:
    """``table``'s ``header`` columns as CSV (CRLF), ratios in percent, every cell made inert."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"{name} %" if name in RATIOS or name == "service_level_target" else name for name in header])
    for row in table:
        writer.writerow([csv_cell(percent(name, row[name])) for name in header])
    return out.getvalue()


def percent(name: str, value: Any) -> Any:
    is_ratio = name in RATIOS or name == "service_level_target"
    return value * 100 if is_ratio and isinstance(value, (int, float)) else value
