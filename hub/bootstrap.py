"""The composition root: the one module that knows every concrete class and wires them.

``running_hub`` starts everything in order (MongoDB, Redis, stores, bus, router, web app) and
stops it in reverse, whatever fails half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.evaluation import Labelled, Prediction, evaluate, labels_of, read_csv, shown
from bot.handover import HandoverPolicy
from bot.rasa import RasaBot
from bot.service import BotService, IntentAnswers
from bot.training.desk import DeskConfig, TrainingDesk
from bot.training.rasa_cli import RasaCli
from bot.training.shipped import evaluate_shipped, read_evaluation
from bot.training.store import TrainingStore, ensure_training_indexes
from bot.training.turns import MongoTurnLog
from channels.email import channel as email_channel
from channels.sms import channel as sms_channel
from channels.telegram import channel as telegram_channel
from channels.webchat import channel as webchat_channel
from console.account_api import add_account_routes
from console.admin_api import add_admin_routes
from console.agent_files_api import add_agent_file_routes
from console.app import init_app
from console.calls_api import add_call_routes
from console.contacts_api import add_contact_routes
from console.find_api import add_find_routes
from console.httpserver import HubRunner
from console.knowledge_api import add_knowledge_routes
from console.kpi_api import add_kpi_routes
from console.live import ConsoleLive
from console.logsafety import PathOnlyAccessLogger, install_malformed_request_filter
from console.offline_form import add_offline_routes
from console.outages_api import add_outage_routes
from console.qa_api import add_quality_routes
from console.snooze_api import add_snooze_routes
from console.staffing_api import add_staffing_routes
from console.survey_page import add_survey_routes
from console.teams_api import add_team_routes
from console.trainer_api import add_trainer_routes
from console.work_orders_api import add_work_order_routes
from hub.agent_states import AgentStates
from hub.audit_trail import AuditTrail
from hub.bot_idle import BotIdleSweep
from hub.bus import RedisEventBus
from hub.call_ports import CallControl, VoiceBotPorts
from hub.clock import Clock, SystemClock
from hub.config import Settings
from hub.consumers import ConsumerRegistry, DurableConsumer, DurableConsumers
from hub.contacts import ContactService
from hub.context import HubContext, Probes
from hub.conversations.agent_files import AgentFiles
from hub.conversations.agents import AgentSide
from hub.conversations.bot_side import BotSide
from hub.conversations.calls import CallSide
from hub.conversations.core import ConversationCore
from hub.conversations.current import CurrentConversations
from hub.conversations.customer_receipts import CustomerReceipts
from hub.conversations.customers import CustomerInbox
from hub.conversations.handing import HandOn
from hub.conversations.known_contacts import KnownContacts
from hub.conversations.known_routes import KnownRoutes
from hub.conversations.offline import OfflineIntake
from hub.conversations.outgoing import Outgoing
from hub.conversations.transitions import Transitions
from hub.customer_files import CustomerFiles
from hub.customer_notices import CustomerNotices, NoticeConfig
from hub.domain import survey_links
from hub.domain.agent_states import PauseKind
from hub.domain.events import BusResubscribed, ConversationChanged, SurveyCallDue, WorkOrderChanged
from hub.domain.snooze import SnoozePolicy
from hub.errors import InvalidInput
from hub.finding import ConversationFinder, SearchIndexer
from hub.inbound import GuardedInbox
from hub.knowledge import KnowledgeBase
from hub.kpi_reports import KpiReports
from hub.leases import RedisLeases
from hub.limits import RedisRateLimiter
from hub.login_limits import RedisLoginThrottle
from hub.missed_offers import MissedOffersRule
from hub.outage_notices import DeliveryRouter, NoticeSender
from hub.outages import OutageDesk
from hub.outbox import Outbox
from hub.passwords import HashingPool
from hub.ports import BotConversations, ChannelSender, Exclusive, SessionInbox
from hub.projections import KpiIntervals
from hub.quality import QualityDesk
from hub.quality_jobs import QualityJobsConsumer
from hub.redaction import install_redaction, secrets_of, sensitive_parts
from hub.registry import Buttons, ChannelDeps, ChannelFactory, ChannelRegistry
from hub.snoozes import SnoozeSweep, Snoozing
from hub.storage.agent_states import MongoAgentStateLog
from hub.storage.attachments import MongoAttachmentStore
from hub.storage.audit import MongoAuditLog
from hub.storage.calls import MongoCallStore
from hub.storage.contacts import MongoContactStore
from hub.storage.conversation_search import MongoConversationSearch
from hub.storage.conversations import MongoConversationStore
from hub.storage.database import Db, connect
from hub.storage.directory import MongoDirectory
from hub.storage.errors import STORAGE_ERRORS
from hub.storage.eventlog import MongoCheckpoints, MongoEventStream
from hub.storage.knowledge import MongoKnowledgeStore, ensure_knowledge_indexes
from hub.storage.kpi_history import MongoKpiRecords
from hub.storage.kpi_intervals import MongoKpiIntervals
from hub.storage.mailboxes import MongoMailboxProgress
from hub.storage.messages import MongoMessageStore
from hub.storage.outages import MongoOutageStore, ensure_outage_indexes
from hub.storage.outbox import MongoOutboxStore
from hub.storage.quality import MongoQualityStore
from hub.storage.sessions import MongoSessionStore
from hub.storage.surveys import MongoSurveyStore
from hub.storage.transition_batch import MongoTransitionBatch
from hub.storage.upgrades import prepare_database
from hub.storage.work_orders import MongoWorkOrderStore
from hub.supervisor import Supervisor
from hub.surveys.inbox import SurveyInbox
from hub.surveys.open_keys import OpenSurveyKeys
from hub.surveys.service import SurveyConfig, SurveyService
from hub.surveys.trigger import SurveyTrigger
from hub.teams import TeamDesk
from hub.work_orders.bot_reports import RepairReports
from hub.work_orders.call_survey import CallPolicy
from hub.work_orders.callback import SurveyReplies
from hub.work_orders.inbox import OrderSurveyInbox
from hub.work_orders.notify import ConversationNotices
from hub.work_orders.service import WorkOrderDesk
from hub.work_orders.survey_calls import SurveyCalls
from hub.work_orders.sweep import WorkOrderSweep, configured_policy
from routing.by_hand import ByHand
from routing.service import RoutingService
from routing.store import RedisRoutingStore
from voice import channel as voice_channel
from voice.channel import attach_order_surveys, attach_surveys
from voice.embedded import embedded_pbx
from voice.phones import endpoint_of, phone_password
from voice.qa_worker import QualityWorker

logger = logging.getLogger(__name__)

REDIS_POOL_SIZE = 64
SNOOZES = "conversations:snoozes"  # wakes snoozed conversations: one process at a time (a lease)
BOT_IDLE = "bot:idle"  # resolves the bot's idle conversations: one process at a time (a lease)
NOTICES = "outages:notices"  # the outage notice sender: one process at a time (a lease)
ASSIGNER = "routing:assigner"  # the supervised loop name (bench/assignment.py finds its task by it)
QUALITY_WORKER = "voice:quality"  # the call quality worker (voice/qa_worker.py)
# Every channel the hub can speak: each package's ``channel(settings, deps)`` returns its registry
# entry, or None when it is not configured. A new channel is a new line here (hub.registry).
CHANNELS: tuple[ChannelFactory, ...] = (webchat_channel.channel, sms_channel.channel, email_channel.channel,
                                        telegram_channel.channel, voice_channel.channel)


@dataclass(frozen=True, slots=True)
class RunningHub:
    context: HubContext
    app: web.Application
    routing: RoutingService
    transitions: Transitions
    base_url: str
    surveys: SurveyService | None = None  # what tests look at (the addresses asked a survey)


@contextlib.asynccontextmanager
async def running_hub(settings: Settings, *, mongo_url: str, redis_url: str, clock: Clock | None = None,
                      channel_senders: Mapping[str, ChannelSender] | None = None) -> AsyncIterator[RunningHub]:
    """Start a whole hub process's components and its HTTP server; yields once it serves.

    ``channel_senders`` adds senders of channels built outside the settings (an embedding
    application's own channel). Longer than our usual budget on purpose: it is the one linear
    start-up order of the process, and each line's position is the point (what starts before
    what, what stops after what).
    """
    clock = clock or SystemClock()
    # Before anything logs: no configured secret in any log line, whichever library writes it.
    install_redaction([*secrets_of(settings), *sensitive_parts(mongo_url), *sensitive_parts(redis_url)])
    async with contextlib.AsyncExitStack() as stack:
        mongo = connect(mongo_url)
        stack.push_async_callback(mongo.close)
        db = mongo[settings.mongo_db]
        await prepare_database(db)  # indexes, then upgrades of an older hub's data (ADRs 0067, 0068)
        redis = Redis(connection_pool=BlockingConnectionPool.from_url(
            # A burst (a group commit releasing hundreds of waiters that each publish) waits for a
            # pooled connection instead of failing with "too many connections".
            redis_url, max_connections=REDIS_POOL_SIZE, timeout=5,
            socket_timeout=5, socket_connect_timeout=5, health_check_interval=10,
            # Pooled connections go stale when Redis restarts: reconnect and retry, briefly.
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=5),
            retry_on_error=[RedisConnectionError, RedisTimeoutError]))
        # aclose() leaves a pool passed in open: disconnect it after (the stack unwinds in reverse).
        stack.push_async_callback(redis.connection_pool.disconnect)
        stack.push_async_callback(redis.aclose)
        await redis.ping()

        leases = RedisLeases(redis, ttl_s=settings.lease_ttl_s)
        # Every background loop, named and restarted with backoff (/readyz). Each is stopped at its
        # place below; this stops whatever is left, last.
        supervisor = Supervisor(exclusive=leases)
        stack.push_async_callback(supervisor.stop)
        bus = await stack.enter_async_context(RedisEventBus(redis, supervisor=supervisor,
                                                            gather_s=settings.bus.gather_ms / 1000))
        messages = await stack.enter_async_context(MongoMessageStore(
            db, gather_s=settings.messages.gather_ms / 1000, max_batch=settings.messages.max_batch,
            summary_flush_s=settings.messages.summary_flush_ms / 1000,
            line_flush_s=settings.messages.line_flush_ms / 1000))
        conversations = MongoConversationStore(db)
        directory = MongoDirectory(db)
        routing_store = RedisRoutingStore(redis)
        routing = RoutingService(
            store=routing_store, conversations=conversations, directory=directory, bus=bus,
            clock=clock, offer_timeout_s=settings.routing.offer_timeout_s,
            presence_ttl_s=settings.routing.presence_ttl_s, tick_s=settings.routing.tick_s,
            reoffer_after_s=settings.routing.reoffer_after_s, sweep_s=settings.routing.sweep_s,
            queues_reread_s=settings.routing.queues_reread_s)
        attachments = MongoAttachmentStore(db)
        channels = ChannelRegistry()  # filled by open_channels; the core asks it which channels are live
        current = CurrentConversations(conversations, ttl_s=settings.messages.cache_ttl_s)
        current.listen(bus)
        routes = KnownRoutes(messages, ttl_s=settings.messages.route_ttl_s)
        routes.listen(bus)
        core = ConversationCore(clock=clock, conversations=conversations, messages=messages, bus=bus,
                                live=channels.live, current=current, routes=routes)
        transitions = Transitions(core, directory=directory, router=routing, batch=MongoTransitionBatch(db))
        outgoing = Outgoing(core)
        known_contacts = KnownContacts(MongoContactStore(db), ttl_s=settings.messages.contact_ttl_s)
        known_contacts.listen(bus)
        receipts = await stack.enter_async_context(CustomerReceipts(core))  # coalesced per conversation
        customers = CustomerInbox(core, transitions, contacts=MongoContactStore(db), attachments=attachments,
                                  default_queue=settings.webchat.default_queue, known=known_contacts,
                                  receipts=receipts)
        agent_desk = AgentSide(core, transitions, outgoing, directory=directory, router=routing,
                               reply_limit=channels.reply_limit)
        agent_files = AgentFiles(core, agent_desk, outgoing, attachments=attachments,
                                 carries_files=channels.carries_files, reply_limit=channels.reply_limit,
                                 secret=settings.secret_key.get_secret_value().encode())
        calls = CallSide(core, transitions, agent_desk, calls=MongoCallStore(db), contacts=MongoContactStore(db),
                         directory=directory, router=routing, short_abandon_s=settings.voice.short_abandon_s)
        routing.attach(transitions)
        hand_on = HandOn(core, transitions, outgoing, directory=directory, router=routing, hands=ByHand(
            store=routing_store, conversations=conversations, transitions=transitions, bus=bus, clock=clock,
            offer_timeout_s=settings.routing.offer_timeout_s, presence_ttl_s=settings.routing.presence_ttl_s))
        desk = await stack.enter_async_context(await training_desk(settings, db, clock))
        knowledge, outage_store = await knowledge_and_outages(db, clock)
        await stack.enter_async_context(outage_store.reports)
        outages = OutageDesk(store=outage_store, bus=bus, clock=clock, time_zone=settings.kpi.time_zone,
                             intent=settings.outages.intent, sms_enabled=bool(settings.sms.kannel_url))
        if settings.bot.rasa_url:
            rasa = await stack.enter_async_context(RasaBot(settings.bot.rasa_url, timeout_s=settings.bot.timeout_s))
            customers.attach_assistant(build_bot_service(settings, rasa, BotSide(core, transitions, outgoing), desk,
                                                         answers=(outages, knowledge)))
        surveys = await survey_service(settings, db, core, outgoing, transitions, channels)
        # A customer's answer to an open survey goes no further (hub/surveys/inbox.py).
        # A reply to a work order's callback survey answers it, even once the conversation is finished.
        order_answers = OrderSurveyInbox(customers, core) if settings.work_orders.enabled else None
        answers: SessionInbox = order_answers or customers
        inbox = SurveyInbox(answers, surveys) if settings.surveys.enabled else answers
        # One limiter for every route: its spending goes to Redis in batches (ADR 0062).
        limiter = await stack.enter_async_context(RedisRateLimiter(redis))
        deps = ChannelDeps(inbox=GuardedInbox(inbox, STORAGE_ERRORS), sessions=inbox, history=messages,
                           limiter=limiter, live=channels.live, clock=clock,
                           mailboxes=MongoMailboxProgress(db), calls=calls, directory=directory,
                           customer_files=CustomerFiles(contacts=MongoContactStore(db), conversations=conversations,
                                                        attachments=attachments),
                           voice_bot=voice_bot_ports(settings, rasa if settings.bot.rasa_url else None,
                                                     BotSide(core, transitions, outgoing), desk))
        await open_channels(stack, settings, deps, channels)
        attach_surveys(settings, channels.call_control(), calls, surveys)  # the keypad survey after a call
        senders: dict[str, ChannelSender] = {**(channel_senders or {}), **channels.senders()}
        outbox = await stack.enter_async_context(Outbox(
            store=MongoOutboxStore(db), senders=senders, bus=bus, clock=clock, poll_s=settings.outbox.poll_s,
            files=attachments, on_sent=routes.sent,
            lease_s=settings.outbox.lease_s, parallel=settings.outbox.parallel))
        outgoing.attach_outbox(outbox)
        notices = NoticeSender(store=outage_store, sender=senders["sms"], clock=clock,
                               rate_per_s=settings.outages.sms_per_s, reconcile_s=settings.outages.reconcile_s,
                               poll_s=settings.outages.poll_s) if "sms" in senders else None
        hashing = stack.enter_context(HashingPool(threads=settings.login.hash_threads,
                                                  queue=settings.login.hash_queue))
        context = HubContext(settings=settings, clock=clock, desk=agent_desk, inbox=customers, acd=routing,
                             directory=directory, conversations=conversations, messages=messages,
                             sessions=MongoSessionStore(db), attachments=attachments, outbox=outbox,
                             probes=Probes(mongo=lambda: db.command("ping"), redis=redis.ping,
                                           loops=supervisor.states, bus=bus.probe),
                             hashing=hashing, logins=RedisLoginThrottle(redis, settings.login), channels=channels,
                             calls=calls)

        live = await stack.enter_async_context(ConsoleLive(context))
        routing.listen(bus)
        live.listen(bus)
        for entry in channels:  # channels with live clients subscribe what those need (web chat)
            if entry.listen is not None:
                entry.listen(bus)
        app = init_app(context, live)
        add_contact_routes(app, ContactService.over(db, clock, bus))
        add_agent_file_routes(app, agent_files, settings.secret_key.get_secret_value().encode())
        add_find_routes(app, ConversationFinder(MongoConversationSearch(db), agent_desk, hand_on), hand_on)
        start_snoozes(settings, app, bus, supervisor, stack, SnoozeParts(core=core, transitions=transitions))
        if settings.bot.idle_resolve_s > 0:
            idle = BotIdleSweep(core, transitions, idle_s=settings.bot.idle_resolve_s, poll_s=settings.bot.idle_poll_s)
            supervisor.start(BOT_IDLE, idle.run, lease=BOT_IDLE)
            stack.push_async_callback(supervisor.cancel, BOT_IDLE)
        add_call_routes(app)
        await start_call_quality(settings, db, app, supervisor, stack, clock)
        add_account_routes(app, bus)
        add_trainer_routes(app, desk)
        states = AgentStates(directory=directory, log=MongoAgentStateLog(db), acd=routing, clock=clock,
                             reasons=settings.agent_states.pause_reasons,
                             hub_reasons={settings.agent_states.missed_offers_reason: PauseKind.REST})
        add_team_routes(app, TeamDesk(directory), states)
        add_admin_routes(app, AuditTrail(MongoAuditLog(db), clock))
        reports: list[DurableConsumer] = []
        if order_answers is not None:
            reports.append(await start_work_orders(settings, db, app, bus, supervisor, stack, WorkOrderParts(
                core=core, outgoing=outgoing, desk=agent_desk, directory=directory, conversations=conversations,
                sms="sms" in senders, answers=order_answers, line=channels.call_control())))
        add_staffing_routes(app, MongoKpiIntervals(db), settings.kpi.time_zone)
        add_kpi_routes(app, KpiReports.configured(MongoKpiRecords(db), settings.kpi))
        add_survey_routes(app, surveys, limiter, settings.surveys.page_per_minute)
        told = CustomerNotices(core=core, outgoing=outgoing, directory=directory, waits=routing,
                               config=notice_config(settings), answers=MongoKpiIntervals(db))
        add_offline_routes(app, told, OfflineIntake(core, customers, transitions), limiter,
                           settings.notices.offline_per_minute)
        add_knowledge_routes(app, knowledge)
        add_outage_routes(app, outages)
        if notices is not None:
            notices.listen(bus)
            supervisor.start(NOTICES, notices.run, lease=NOTICES)
            stack.push_async_callback(supervisor.cancel, NOTICES)
        for entry in channels:  # webhooks and sockets, then the receivers (watchers, polling)
            if entry.routes is not None:
                entry.routes(app, DeliveryRouter(outbox, notices))
        for entry in channels:
            for loop in entry.loops:
                supervisor.start(loop.name, loop.work, lease=loop.lease, backoff=loop.backoff, quiet=loop.quiet)
                stack.push_async_callback(supervisor.cancel, loop.name)

        trigger = SurveyTrigger(surveys, enabled=settings.surveys.enabled, channels=settings.surveys.channels(),
                                max_age=timedelta(hours=settings.surveys.max_age_h))
        missed = MissedOffersRule(states=states, directory=directory, clock=clock,
                                  limit=settings.agent_states.missed_offers_limit,
                                  reason=settings.agent_states.missed_offers_reason)
        extra: list[DurableConsumer] = [*([trigger] if settings.surveys.enabled else []),
                                        *([told] if settings.notices.enabled else []),
                                        *([missed] if settings.agent_states.missed_offers_limit else []), *reports]
        consumers = await stack.enter_async_context(durable_consumers(settings, db, leases, clock, extra=extra))
        bus.subscribe(ConversationChanged, consumers.on_bus, subscriber="durable:wake")  # consumers poll anyway
        bus.subscribe(BusResubscribed, consumers.on_bus, subscriber="durable:wake")  # a wake-up lost in a gap
        await routing.ensure_state()
        supervisor.start(ASSIGNER, routing.run, backoff=routing.backoff, quiet=routing.quiet)
        stack.push_async_callback(supervisor.cancel, ASSIGNER)

        install_malformed_request_filter()
        runner = HubRunner(app, head_timeout_s=settings.http.header_timeout_s,
                           idle_timeout_s=settings.http.idle_timeout_s, handle_signals=False, shutdown_timeout=5,
                           access_log_class=PathOnlyAccessLogger)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, settings.http.host, settings.http.port)
        await site.start()
        port = runner.addresses[0][1]
        base_url = settings.http.public_url or f"http://{settings.http.host}:{port}"
        surveys.attach_base_url(base_url)
        agent_files.attach_base_url(base_url)
        logger.info("hub.serving url=%s", base_url)
        yield RunningHub(context=context, app=app, routing=routing, transitions=transitions, base_url=base_url,
                         surveys=surveys)


async def open_channels(stack: contextlib.AsyncExitStack, settings: Settings, deps: ChannelDeps,
                        registry: ChannelRegistry) -> None:
    """Register every configured channel and open its connections (closed when ``stack`` unwinds)."""
    for factory in CHANNELS:
        entry = factory(settings, deps)
        if entry is not None:
            registry.register(entry)
    for entry in registry:
        if entry.resources is not None:
            await stack.enter_async_context(entry.resources)


@contextlib.asynccontextmanager
async def embedded_voice(settings: Settings) -> AsyncIterator[Settings]:
    """``hub serve`` with ``HUB_VOICE__EMBEDDED``: its own Asterisk; yields the settings that point at it."""
    if not settings.voice.embedded or settings.voice.ami_port is not None:
        yield settings
        return
    async with embedded_pbx(settings.voice) as voice:
        yield settings.model_copy(update={"voice": voice})


@dataclass(frozen=True, slots=True, kw_only=True)
class SnoozeParts:
    core: ConversationCore
    transitions: Transitions


def start_snoozes(settings: Settings, app: web.Application, bus: RedisEventBus, supervisor: Supervisor,
                  stack: contextlib.AsyncExitStack, parts: SnoozeParts) -> None:
    """Snooze (ADR 0049): the console's routes in every process, the wake-up sweep under a lease."""
    policy = SnoozePolicy(zone=ZoneInfo(settings.kpi.time_zone), wake_at=time.fromisoformat(settings.snooze.wake_at),
                          max_ahead=timedelta(days=settings.snooze.max_days))
    snoozing = Snoozing(parts.core, parts.transitions, policy)
    add_snooze_routes(app, snoozing)
    sweep = SnoozeSweep(snoozing, parts.core, poll_s=settings.snooze.poll_s)
    sweep.listen(bus)
    supervisor.start(SNOOZES, sweep.run, lease=SNOOZES)
    stack.push_async_callback(supervisor.cancel, SNOOZES)


async def start_call_quality(settings: Settings, db: Db, app: web.Application, supervisor: Supervisor,
                             stack: contextlib.AsyncExitStack, clock: Clock) -> None:
    """Call quality (docs/architecture.md, "Call quality"): the supervisors' API always; with
    ``HUB_QUALITY__ENABLED`` the worker and its process pool (stopped when ``stack`` unwinds)."""
    store = MongoQualityStore(db)
    await store.ensure_indexes()
    add_quality_routes(app, QualityDesk(store, clock))
    if settings.quality.enabled:
        worker = await stack.enter_async_context(
            QualityWorker(settings.quality, store, settings.voice.recordings_dir, clock))
        supervisor.start(QUALITY_WORKER, worker.run)
        stack.push_async_callback(supervisor.cancel, QUALITY_WORKER)


def agent_phone_account(settings: Settings, username: str) -> tuple[str, str]:
    """``hub voice phone``: the SIP endpoint and password of an agent's phone (voice/phones.py)."""
    return endpoint_of(username), phone_password(settings.secret_key.get_secret_value().encode(), username)


def consumer_registry(settings: Settings, db: Db, extra: Sequence[DurableConsumer] = ()) -> ConsumerRegistry:
    """The durable consumers of this hub (docs/architecture.md, "Durable consumers"): add one here.
    ``extra``: those built with the running hub's parts (the survey trigger)."""
    registry = ConsumerRegistry()
    if settings.consumers.enabled:
        registry.register(KpiIntervals(MongoEventStream(db), MongoKpiIntervals(db)))
        registry.register(SearchIndexer(MongoConversationSearch(db), SystemClock()))  # conversation search
        if settings.quality.enabled:  # every recorded call becomes a quality job (hub/quality_jobs.py)
            registry.register(QualityJobsConsumer(MongoCallStore(db), MongoQualityStore(db), SystemClock()))
        for consumer in extra:
            registry.register(consumer)
    return registry


def durable_consumers(settings: Settings, db: Db, exclusive: Exclusive, clock: Clock,
                      extra: Sequence[DurableConsumer] = ()) -> DurableConsumers:
    return DurableConsumers(consumer_registry(settings, db, extra), stream=MongoEventStream(db),
                            checkpoints=MongoCheckpoints(db), exclusive=exclusive, clock=clock,
                            holder=f"{socket.gethostname()}:{os.getpid()}", batch=settings.consumers.batch,
                            poll_s=settings.consumers.poll_s, gather_s=settings.consumers.gather_s)


async def survey_service(settings: Settings, db: Db, core: ConversationCore, outgoing: Outgoing,
                         transitions: Transitions, channels: ChannelRegistry) -> SurveyService:
    """The satisfaction surveys (hub/surveys): asked after resolve, answered on the customer's channel."""
    store = MongoSurveyStore(db)
    await store.ensure_indexes()

    def has_buttons(name: str) -> bool:
        entry = channels.get(name)
        return entry is not None and entry.capabilities.buttons is Buttons.NATIVE

    config = SurveyConfig(expiry=timedelta(hours=settings.surveys.expiry_h),
                          link_expiry=timedelta(hours=settings.surveys.link_expiry_h),
                          questions=dict(settings.surveys.questions), has_buttons=has_buttons,
                          links=frozenset({"email"}))
    keys = OpenSurveyKeys(store, reread_s=settings.surveys.open_reread_s)
    keys.listen(core.bus)
    return SurveyService(store=store, core=core, outgoing=outgoing, transitions=transitions, config=config,
                         link_key=survey_links.link_key(settings.secret_key.get_secret_value().encode()),
                         base_url=settings.http.public_url, keys=keys)


def notice_config(settings: Settings) -> NoticeConfig:
    """The customer's notices and the queues' business hours on the centre's calendar (hub/customer_notices.py)."""
    calendar = settings.work_orders
    return NoticeConfig(zone=ZoneInfo(settings.kpi.time_zone),
                        holidays=frozenset(date.fromisoformat(d) for d in calendar.holidays),
                        extra_workdays=frozenset(date.fromisoformat(d) for d in calendar.extra_workdays),
                        texts=settings.notices.texts, max_age=timedelta(hours=settings.notices.max_age_h))


def handover_policy(settings: Settings) -> HandoverPolicy:
    bot = settings.bot
    return HandoverPolicy(confidence_threshold=bot.confidence_threshold, max_fallbacks=bot.max_fallbacks,
                          human_intents=frozenset(bot.human_intents),
                          human_only_intents=frozenset(bot.human_only_intents),
                          fallback_intents=frozenset(bot.fallback_intents))


def build_bot_service(settings: Settings, rasa: RasaBot, conversations: BotConversations,
                      desk: TrainingDesk | None = None, answers: Sequence[IntentAnswers] = ()) -> BotService:
    return BotService(bot=rasa, conversations=conversations, policy=handover_policy(settings),
                      intent_queues=settings.bot.intent_queues, default_queue=settings.webchat.default_queue,
                      turns=desk.turn_log if desk else None, handover_intents=desk.handover_intents if desk else None,
                      threshold=desk.serving_threshold if desk else None, answers=answers)


async def knowledge_and_outages(db: Db, clock: Clock) -> tuple[KnowledgeBase, MongoOutageStore]:
    """The knowledge base (the bot's FAQ answers) and the outage table, their indexes made."""
    await ensure_knowledge_indexes(db)
    await ensure_outage_indexes(db)
    return KnowledgeBase(MongoKnowledgeStore(db), clock), MongoOutageStore(db)


def voice_bot_ports(settings: Settings, rasa: RasaBot | None, conversations: BotConversations,
                    desk: TrainingDesk) -> VoiceBotPorts | None:
    """The bot's handover and the trainers' examples for the voice bot (none without Rasa)."""
    if rasa is None:
        return None
    bot = build_bot_service(settings, rasa, conversations, desk)
    return VoiceBotPorts(hand_over=bot.hand_over, examples=desk.example_texts)


async def evaluate_bot(settings: Settings, csv_text: str, *, concurrency: int = 8) -> dict[str, Any]:
    """``hub bot evaluate``: parse every labelled row with the running Rasa model and score it."""
    if not settings.bot.rasa_url:
        raise InvalidInput("set HUB_BOT__RASA_URL to the Rasa server to evaluate")
    rows = read_csv(csv_text)
    gate = asyncio.Semaphore(concurrency)
    async with RasaBot(settings.bot.rasa_url, timeout_s=max(settings.bot.timeout_s, 30.0)) as rasa:
        known = await rasa.intents()

        async def predict(row: Labelled) -> Prediction:
            async with gate:
                intent, confidence = await rasa.parse(row.text)
            return Prediction(row.intent, intent, confidence, text=row.text)

        predictions = await asyncio.gather(*(predict(row) for row in rows))
    policy = handover_policy(settings)
    return shown({"file_rows": len(rows), "model_intents": len(known), **evaluate(predictions, known, policy)},
                 labels_of(rows))


CHECKOUT = Path(__file__).resolve().parent.parent  # relative paths of HUB_TRAINING__* start here


async def training_desk(settings: Settings, db: Db, clock: Clock | None = None) -> TrainingDesk:
    """The bot trainer's desk (curated data, train, evaluate, activate); enter it with ``async with``."""
    await ensure_training_indexes(db)
    clock = clock or SystemClock()
    training = settings.training

    def in_checkout(path: Path) -> Path:
        return path if path.is_absolute() else CHECKOUT / path

    config = DeskConfig(models_dir=in_checkout(training.models_dir), work_dir=in_checkout(training.work_dir),
                        heldout=in_checkout(training.heldout), epochs=training.epochs, timeout_s=training.timeout_s,
                        review_below=training.review_below, activate_timeout_s=training.activate_timeout_s,
                        rasa_url=settings.bot.rasa_url, keep_models=training.keep_models)
    cli = RasaCli(venv=in_checkout(training.rasa_venv), project_dir=in_checkout(training.project_dir),
                  warm_start_dir=config.work_dir / "warm-start")
    return TrainingDesk(store=TrainingStore(db), turns=MongoTurnLog(db, clock), cli=cli, clock=clock,
                        policy=handover_policy(settings), config=config)
async def shipped_evaluation(settings: Settings, model: Path) -> tuple[dict[str, Any], bool]:
    """``hub bot shipped-eval``: the shipped model's held-out evaluation and out-of-scope threshold,
    stored beside it; returns (metrics, whether they were computed now rather than read)."""
    training = settings.training

    def in_checkout(path: Path) -> Path:
        return path if path.is_absolute() else CHECKOUT / path

    heldout = await asyncio.to_thread(in_checkout(training.heldout).read_text, "utf-8")
    if (stored := await asyncio.to_thread(read_evaluation, model, heldout)) is not None:
        return stored, False
    cli = RasaCli(venv=in_checkout(training.rasa_venv), project_dir=in_checkout(training.project_dir))
    return await evaluate_shipped(cli, handover_policy(settings), model, heldout), True


WORK_ORDERS = "work_orders:sweep"  # SLA timers, surveys, pending notices: one process at a time (a lease)


@dataclass(frozen=True, slots=True)
class WorkOrderParts:
    """What the work orders borrow from the conversations' side."""

    core: ConversationCore
    outgoing: Outgoing
    desk: AgentSide
    directory: MongoDirectory
    conversations: MongoConversationStore
    sms: bool
    answers: OrderSurveyInbox  # the inbox in front that records the survey answers
    line: CallControl | None = None  # the phone line: callback surveys by call (hub/work_orders/survey_calls.py)


async def start_work_orders(settings: Settings, db: Db, app: web.Application, bus: RedisEventBus,
                            supervisor: Supervisor, stack: contextlib.AsyncExitStack, parts: WorkOrderParts,
                            ) -> DurableConsumer:
    """Work orders (hub/work_orders): the desk and its API, the survey replies, the SLA sweep; returns the
    durable consumer that opens repair orders from the bot's fault reports (ADR 0066)."""
    store = MongoWorkOrderStore(db)
    await store.ensure_indexes()
    desk = WorkOrderDesk(store=store, directory=parts.directory, desk=parts.desk, conversations=parts.conversations,
                         notices=ConversationNotices(parts.core, parts.outgoing, sms=parts.sms), bus=bus,
                         clock=parts.core.clock)
    policy = configured_policy(settings.work_orders, settings.kpi.time_zone)
    replies = SurveyReplies(desk)
    parts.answers.attach(replies)  # the customers' replies are recorded as they come in
    calls = survey_calls(settings, desk, replies, bus, parts.line)
    sweep = WorkOrderSweep(desk, policy, poll_s=settings.work_orders.sweep_s, calls=calls)
    add_work_order_routes(app, desk, policy, parts.directory)

    async def wake(fact: object) -> None:  # a change elsewhere: a closed order's survey goes out sooner
        sweep.wake()

    bus.subscribe(WorkOrderChanged, wake, subscriber="work_orders:wake")
    bus.subscribe(BusResubscribed, wake, subscriber="work_orders:wake")  # a wake-up lost in a bus gap
    supervisor.start(WORK_ORDERS, sweep.run, lease=WORK_ORDERS)
    stack.push_async_callback(supervisor.cancel, WORK_ORDERS)
    return RepairReports(desk, parts.conversations, parts.core.messages)  # the bot's fault reports


def survey_calls(settings: Settings, desk: WorkOrderDesk, replies: SurveyReplies, bus: RedisEventBus,
                 line: CallControl | None) -> SurveyCalls | None:
    """Closed orders' callback surveys by phone when voice is on (``HUB_WORK_ORDERS__SURVEY_BY_CALL``).
    Every process with voice places the calls it is asked to while it holds the line."""
    orders = settings.work_orders
    if not orders.survey_by_call or settings.voice.ami_port is None:
        return None
    retry = timedelta(seconds=orders.survey_call_retry_s)
    calls = SurveyCalls(desk, replies, bus, CallPolicy(
        attempts=orders.survey_call_attempts, retry=retry,
        stale=timedelta(seconds=settings.voice.survey_ring_timeout_s + 600)))
    placed = attach_order_surveys(settings, line, calls)
    if placed is not None:
        bus.subscribe(SurveyCallDue, placed.on_due, subscriber="voice:order_surveys")
    return calls
