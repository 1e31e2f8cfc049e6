"""The bot trainer's console API (``/api/trainer/*``, docs/api.md) and page (``/console/trainer``).

Trainers and admins only (403 ``forbidden`` otherwise); the session and CSRF checks are the console's
middleware, as for every ``/api/`` call. The work itself is ``hub.ports.TrainingDesk``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from console.api import body
from console.auth import AGENT_KEY
from console.errors import api_error
from console.keys import HUB
from console.pages import STATIC, page
from hub.clock import iso
from hub.domain.ids import Role
from hub.domain.training import BotTurnRecord, Example, IntentSummary, ModelRecord
from hub.kpi import bot_kpis
from hub.ports import TrainingDesk

TRAINER = web.AppKey("trainer", TrainingDesk)
TRAINING_ROLES = frozenset({Role.TRAINER, Role.ADMIN})
MAX_CSV_BYTES = 50 * 1024 * 1024
routes = web.RouteTableDef()


class IntentBody(BaseModel):
    intent: str = Field(min_length=1, max_length=100)


class NewIntentBody(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class ExampleBody(BaseModel):
    text: str = Field(min_length=1, max_length=500)
    intent: str = Field(min_length=1, max_length=100)


class TextBody(BaseModel):
    text: str = Field(min_length=1, max_length=500)


def desk_for(request: web.Request) -> TrainingDesk:
    if request[AGENT_KEY].role not in TRAINING_ROLES:
        raise api_error(403, "forbidden", "bot trainers and admins only")
    return request.app[TRAINER]


def turn_json(turn: BotTurnRecord) -> dict[str, Any]:
    return {"id": turn.id, "conversation_id": turn.conversation_id, "text": turn.text, "intent": turn.intent,
            "confidence": round(turn.confidence, 3), "handed_over": turn.handed_over, "reason": turn.reason,
            "at": iso(turn.at), "language": turn.language, "reviewed_intent": turn.reviewed_intent,
            "reviewed_by": turn.reviewed_by, "wrap_up_code": turn.wrap_up_code}


def example_json(example: Example) -> dict[str, Any]:
    return {"text": example.text, "intent": example.intent, "language": example.language,
            "source": example.source.value, "created_at": iso(example.created_at), "by": example.by}


def intent_json(intent: IntentSummary, handovers: Mapping[str, int]) -> dict[str, Any]:
    return {"name": intent.name, "label": intent.label or intent.name, "examples": intent.examples,
            "has_response": intent.has_response,
            "handovers": handovers.get(intent.name, 0)}


def model_json(model: ModelRecord) -> dict[str, Any]:
    return {"id": model.id, "status": model.status.value, "progress": round(model.progress, 3),
            "phase": model.phase, "created_at": iso(model.created_at), "by": model.by,
            "trained_at": iso(model.trained_at), "duration_s": model.duration_s, "examples": model.examples,
            "intents": model.intents, "handover_intents": list(model.handover_intents),
            "metrics": dict(model.metrics), "error": model.error, "activated_at": iso(model.activated_at),
            "threshold": model.threshold}


def int_query(request: web.Request, name: str, default: int, most: int) -> int:
    try:
        value = int(request.query.get(name, str(default)))
    except ValueError:
        raise api_error(400, "invalid_input", f"{name} must be a whole number") from None
    return max(1, min(value, most))


@routes.get("/api/trainer/turns")
async def get_turns(request: web.Request) -> web.Response:
    """Low-confidence and handed-over turns, newest first; ``?all=1`` includes reviewed ones."""
    desk = desk_for(request)
    turns = await desk.turns(limit=int_query(request, "limit", 100, 500), pending_only=request.query.get("all") != "1")
    return web.json_response({"turns": [turn_json(t) for t in turns]})


@routes.post("/api/trainer/turns/{id}/label")
async def post_label(request: web.Request) -> web.Response:
    desk, data = desk_for(request), await body(request, IntentBody)
    example = await desk.label_turn(request.match_info["id"], data.intent, by=request[AGENT_KEY].username)
    return web.json_response({"example": example_json(example)})


@routes.get("/api/trainer/intents")
async def get_intents(request: web.Request) -> web.Response:
    """Every curated intent with its examples, and the handovers by intent over ``hours`` (default 7 days)."""
    desk = desk_for(request)
    hours = int_query(request, "hours", 24 * 7, 24 * 366)
    hub = request.app[HUB]
    handovers = bot_kpis(await hub.conversations.events_since(hub.clock.now() - timedelta(hours=hours)))
    by_intent = dict(handovers.handovers_by_intent)
    return web.json_response({"hours": hours, "intents": [intent_json(i, by_intent) for i in await desk.intents()],
                              "handovers_by_intent": by_intent, "handed_over": handovers.handed_over,
                              "with_bot": handovers.with_bot})


@routes.post("/api/trainer/intents")
async def post_intent(request: web.Request) -> web.Response:
    desk, data = desk_for(request), await body(request, NewIntentBody)
    name = await desk.add_intent(data.name, by=request[AGENT_KEY].username)
    return web.json_response({"intent": {"name": name, "label": " ".join(data.name.split())}})


@routes.get("/api/trainer/intents/{name}/examples")
async def get_examples(request: web.Request) -> web.Response:
    desk = desk_for(request)
    examples = await desk.examples(request.match_info["name"], int_query(request, "limit", 200, 2000))
    return web.json_response({"examples": [example_json(e) for e in examples]})


@routes.post("/api/trainer/examples")
async def post_example(request: web.Request) -> web.Response:
    desk, data = desk_for(request), await body(request, ExampleBody)
    example = await desk.add_example(data.text, data.intent, by=request[AGENT_KEY].username)
    return web.json_response({"example": example_json(example)})


@routes.delete("/api/trainer/examples")
async def delete_example(request: web.Request) -> web.Response:
    """``{"text"}``: the curated example with this text is removed (404: none has it)."""
    desk, data = desk_for(request), await body(request, TextBody)
    await desk.remove_example(data.text, by=request[AGENT_KEY].username)
    return web.json_response({"removed": data.text})


@routes.post("/api/trainer/import")
async def post_import(request: web.Request) -> web.Response:
    """A ``text,intent`` CSV (UTF-8, the request's whole body, at most the app's 1 MB; larger files
    through ``hub bot import``) added to the curated examples: new texts inserted, known ones
    relabelled, never a replace from the console. ``?skip_bad=1`` imports the good rows of a file
    with bad ones; otherwise a bad row refuses the file (400 naming it)."""
    desk = desk_for(request)
    skip_bad = request.query.get("skip_bad", "0")
    if skip_bad not in ("0", "1"):
        raise api_error(400, "invalid_input", "skip_bad is 0 or 1")
    try:
        text = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise api_error(400, "invalid_text", "the file is not UTF-8 text") from None
    if not text.strip():
        raise api_error(400, "invalid_input", "the file is empty")
    report = await desk.import_csv(text, replace=False, by=request[AGENT_KEY].username, skip_bad=skip_bad == "1")
    return web.json_response({"report": report.to_json()})


@routes.get("/api/trainer/export")
async def get_export(request: web.Request) -> web.Response:
    return web.json_response({"files": await desk_for(request).export()})


@routes.get("/api/trainer/models")
async def get_models(request: web.Request) -> web.Response:
    models = await desk_for(request).models()
    return web.json_response({"models": [model_json(m) for m in models],
                              "training": any(m.status.value == "training" for m in models)})


@routes.get("/api/trainer/models/{id}")
async def get_model(request: web.Request) -> web.Response:
    return web.json_response({"model": model_json(await desk_for(request).model(request.match_info["id"]))})


@routes.post("/api/trainer/train")
async def post_train(request: web.Request) -> web.Response:
    """Starts a training in the background (409 ``conflict`` while one runs); poll the model for progress."""
    model = await desk_for(request).start_training(by=request[AGENT_KEY].username)
    return web.json_response({"model": model_json(model)}, status=202)


@routes.post("/api/trainer/models/{id}/evaluate")
async def post_evaluate(request: web.Request) -> web.Response:
    """Scores the model on the held-out set, next to the model the bot serves now (active or shipped)."""
    desk = desk_for(request)
    metrics = await desk.evaluate(request.match_info["id"])
    return web.json_response({"model": model_json(await desk.model(request.match_info["id"])), "metrics": metrics,
                              "serving": await desk.serving_metrics()})


@routes.get("/api/trainer/serving")
async def get_serving(request: web.Request) -> web.Response:
    """Held-out metrics of the model the bot serves now (evaluated once, then remembered)."""
    return web.json_response({"serving": await desk_for(request).serving_metrics()})


@routes.post("/api/trainer/models/{id}/activate")
async def post_activate(request: web.Request) -> web.Response:
    model = await desk_for(request).activate(request.match_info["id"], by=request[AGENT_KEY].username)
    return web.json_response({"model": model_json(model)})


def add_trainer_routes(app: web.Application, desk: TrainingDesk) -> None:
    app[TRAINER] = desk
    app.add_routes(routes)
    app.router.add_get("/console/trainer", page(STATIC / "console" / "trainer.html"))
