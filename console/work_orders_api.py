"""Work orders in the console (docs/api.md, "Work orders"): open one from a conversation, list and
read them within the visibility rule, and act on them (dispatch, re-dispatch, acknowledge, wait on
the customer, resume, reply, close, reopen, note); departments. Handlers: parse, call, answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from console.api import body
from console.auth import AGENT_KEY
from console.errors import api_error
from console.pages import STATIC, page
from hub.clock import iso
from hub.domain.ids import Role
from hub.domain.model import Department
from hub.ports import Directory
from hub.work_orders.kinds import OrderType, types_json
from hub.work_orders.model import WorkOrder
from hub.work_orders.service import OrderFilter, WorkOrderDesk
from hub.work_orders.states import Action, OrderState
from hub.work_orders.sweep import SlaPolicy

routes = web.RouteTableDef()
ORDERS = web.AppKey("work_orders", WorkOrderDesk)
POLICY = web.AppKey("work_order_sla", SlaPolicy)
DIRECTORY = web.AppKey("work_order_directory", Directory)
ID = r"{order_id:wo_[A-Za-z0-9_-]{1,40}}"
ACTIONS = "|".join(a.value for a in Action if a is not Action.CREATE)


class CreateBody(BaseModel):
    conversation_id: str = Field(min_length=1, max_length=100)
    type: OrderType
    fields: dict[str, str | None] = Field(default_factory=dict, max_length=20)
    text: str = Field("", max_length=2000)
    department: str | None = Field(None, min_length=1, max_length=100)  # dispatch at once


class ActionBody(BaseModel):
    department: str | None = Field(None, min_length=1, max_length=100)
    text: str = Field("", max_length=2000)


class DepartmentBody(BaseModel):
    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)


def add_work_order_routes(app: web.Application, desk: WorkOrderDesk, policy: SlaPolicy, directory: Directory) -> None:
    app[ORDERS], app[POLICY], app[DIRECTORY] = desk, policy, directory
    app.add_routes(routes)
    app.router.add_get("/console/work_orders", page(STATIC / "console" / "work_orders.html"))


@routes.get("/api/work_orders/types")
async def get_types(request: web.Request) -> web.Response:
    return web.json_response({"types": types_json()})


@routes.post("/api/work_orders")
async def post_order(request: web.Request) -> web.Response:
    data, desk, agent = await body(request, CreateBody), request.app[ORDERS], request[AGENT_KEY]
    order = await desk.create(agent, data.conversation_id, data.type, data.fields, data.text)
    if data.department is not None:
        order = await desk.act(agent, order.id, Action.DISPATCH, department=data.department)
    return web.json_response({"work_order": order_json(request, order)}, status=201)


@routes.get("/api/work_orders")
async def get_orders(request: web.Request) -> web.Response:
    query = request.query
    state = query.get("state")
    if state is not None and state not in {s.value for s in OrderState}:
        raise api_error(400, "invalid_input", f"state must be one of {', '.join(OrderState)}")
    breached = query.get("breached")
    if breached not in (None, "true", "false"):
        raise api_error(400, "invalid_input", "breached must be true or false")
    try:
        limit = int(query.get("limit", "100"))
    except ValueError:
        raise api_error(400, "invalid_input", "limit must be a number") from None
    if not 1 <= limit <= 500:
        raise api_error(400, "invalid_input", "limit must be 1-500")
    found = await request.app[ORDERS].list(request[AGENT_KEY], OrderFilter(
        state=state, department=query.get("department"), breached=None if breached is None else breached == "true",
        conversation_id=query.get("conversation_id"), limit=limit))
    return web.json_response({"work_orders": [order_json(request, o, history=False) for o in found]})


@routes.get(f"/api/work_orders/{ID}")
async def get_order(request: web.Request) -> web.Response:
    order = await request.app[ORDERS].get(request[AGENT_KEY], request.match_info["order_id"])
    return web.json_response({"work_order": order_json(request, order)})


@routes.post(f"/api/work_orders/{ID}/{{action:{ACTIONS}}}")
async def post_action(request: web.Request) -> web.Response:
    data = await body(request, ActionBody)
    order = await request.app[ORDERS].act(request[AGENT_KEY], request.match_info["order_id"],
                                          Action(request.match_info["action"]), department=data.department,
                                          text=data.text)
    return web.json_response({"work_order": order_json(request, order)})


@routes.get("/api/departments")
async def get_departments(request: web.Request) -> web.Response:
    departments = await request.app[DIRECTORY].departments()
    return web.json_response({"departments": [{"id": d.id, "name": d.name} for d in departments]})


@routes.post("/api/departments")
async def post_department(request: web.Request) -> web.Response:
    if request[AGENT_KEY].role is not Role.ADMIN:
        raise api_error(403, "forbidden", "admins only")
    data = await body(request, DepartmentBody)
    await request.app[DIRECTORY].put_department(Department(id=data.id, name=data.name))
    return web.json_response({"department": {"id": data.id, "name": data.name}}, status=201)


def order_json(request: web.Request, order: WorkOrder, *, history: bool = True) -> dict[str, Any]:
    """api.md's ``WorkOrder``: the order with its timers as they read now (and its history)."""
    policy, now = request.app[POLICY], request.app[ORDERS].clock.now()
    readings = policy.readings(order, now)
    data: dict[str, Any] = {
        "id": order.id, "number": order.number, "type": order.type.value, "state": order.state.value,
        "version": order.version, "fields": dict(order.fields), "department": order.department,
        "conversation_id": order.conversation_id, "created_by": order.created_by,
        "created_at": iso(order.created_at), "breached": sorted(order.breached), "warned": sorted(order.warned),
        "escalation": order.escalation, "survey": order.survey, "survey_score": order.survey_score,
        "timers": {name.value: {"state": r.state.value, "due_at": iso(r.due_at), "used_s": round(r.elapsed_s),
                                "budget_s": round(r.budget_s), "percent": round(r.percent, 1)}
                   for name, r in readings.items()},
    }
    if history:
        data["history"] = [{"n": e.n, "action": e.action, "at": _iso(e.at), "actor": e.actor, "state": e.state.value,
                            "department": e.department, "text": e.text, "timer": e.timer,
                            "notice": e.notice is not None} for e in order.history]
    return data


def _iso(at: datetime) -> str | None:
    return iso(at)
