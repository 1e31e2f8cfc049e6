"""Ports: what the core needs from the outside, as Protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from hub.domain.agent_states import StateSpan
from hub.domain.bot import BotTurn
from hub.domain.customer_notices import OfflineMessage
from hub.domain.events import EventType, Fact
from hub.domain.ids import AgentStatus, Author, ChannelName, DeliveryStatus, Skill
from hub.domain.model import (
    Agent,
    CannedReply,
    Conversation,
    Department,
    InboundMessage,
    LoginSession,
    Message,
    Queue,
    StoredAttachment,
    Team,
    WrapUpCode,
)
from hub.domain.moves import Move, MoveOutcome
from hub.domain.outbound import Outbound, SendResult
from hub.domain.received import ConversationRef, Received
from hub.domain.states import ConversationState
from hub.domain.training import BotTurnRecord, Example, ImportReport, IntentSummary, ModelRecord
from hub.domain.visibility import Sight

F = TypeVar("F", bound=Fact)


class EventBus(Protocol):
    """Fan-out of live facts (``hub.domain.events``) to every hub process, itself included.

    At most once, never the only copy of anything: a consumer that must not miss a fact reads the
    ``events`` collection instead (the durable consumers). ``publish`` returns at once and never
    raises for Redis (ADR 0020).

    ``subscribe`` registers ``handler`` for facts of class ``kind`` and its subclasses. Every
    subscriber (``subscriber`` names it; handlers registered under one name share it) has its own
    bounded queue and task: a slow or failing subscriber never delays another; within one
    subscriber facts arrive in bus order, whatever their kinds. A full queue drops its oldest fact
    (counted). Handlers must not block on clients: socket writes go through ``hub.socket_writer``.

    A subscriber that keeps something live from facts also subscribes to ``BusResubscribed`` (local,
    never published): it arrives after a gap in the subscription, in which facts were lost, and the
    subscriber re-reads what it keeps (ADR 0060).
    """

    async def publish(self, fact: Fact) -> None: ...

    def subscribe(self, kind: type[F], handler: Callable[[F], Awaitable[None]], *,
                  subscriber: str | None = None) -> None: ...


class Router(Protocol):
    """The ACD as the conversation core sees it. Implemented by ``routing.service``.

    ``enqueue`` is called after a conversation moved to ``queued`` in MongoDB; ``release`` after
    it left an agent (resolved, transferred); both are idempotent.
    """

    async def enqueue(self, conversation: Conversation, *, skip: Collection[str] = ()) -> None:
        """``skip``: agents not to offer it to for ``reoffer_after_s`` (the agent who transferred it)."""
        ...

    async def release(self, conversation: Conversation) -> None: ...

    async def withdraw(self, conversation: Conversation) -> None: ...


class Acd(Router, Protocol):
    """The ACD as the console sees it: offers, presence and the live overview."""

    async def accept(self, agent: Agent, conversation_id: str) -> Conversation: ...

    async def decline(self, agent: Agent, conversation_id: str) -> Conversation: ...

    async def set_presence(self, agent: Agent, status: AgentStatus) -> None: ...

    async def refit(self, agent: Agent) -> None:
        """Apply an agent's new skills and capacities to her routing presence, if she has one."""
        ...

    async def heartbeat(self, agent: Agent) -> None: ...

    async def overview(self) -> dict[str, Any]: ...

    async def offer_of(self, conversation_id: str) -> Any: ...


class Bot(Protocol):
    """The conversational bot (Rasa). Only conversations in state ``bot`` reach it.

    ``turn`` is idempotent per (conversation, message) as far as the hub is concerned; it raises
    ``BotUnavailable`` when the bot cannot answer (down, erroring or slower than its timeout).
    """

    async def turn(self, conversation_id: str, text: str, language: str | None = None,
                   threshold: float | None = None) -> BotTurn:
        """``language`` (``en``/``zh``): the language to answer in; None keeps the conversation's last one.
        ``threshold``: the active model's out-of-scope threshold (None: the bot's own fallback decides)."""
        ...


class Assistant(Protocol):
    """Runs the bot's side of a conversation (``bot.service``): one customer message at a time.

    Called after the message is stored and acknowledged, only while the conversation is in
    ``bot``. Never raises for the bot's failures: it hands the conversation to a human instead.
    """

    async def handle(self, conversation_id: str, message: Message, payload: str | None) -> None: ...


class ChannelSender(Protocol):
    """The outbound half of a channel adapter (SMS, e-mail, Telegram). The outbox calls it.

    ``send`` raises ``hub.errors.ChannelSendError`` with ``retryable`` set for what may succeed
    later (provider down, rate limited) and unset for what never will (invalid address). It may
    be called again for the same message after a crash (at-least-once), so adapters pass the
    message id to providers that deduplicate.
    """

    channel: ChannelName

    async def send(self, outbound: Outbound) -> SendResult: ...


class OutboundQueue(Protocol):
    """The outbox as the conversation core sees it (``hub.outbox.Outbox``)."""

    def claim_new(self) -> dict[str, Any]: ...

    def dispatch(self, message: Message, entry: Mapping[str, Any]) -> None: ...



class TrainingDesk(Protocol):
    """The bot trainer's workflow (``bot.training.desk``): curated examples, train, evaluate, activate.

    Raises ``InvalidInput`` for bad data or a training already running, ``NotFound`` for unknown ids,
    ``ServiceUnavailable`` when Rasa cannot load a model.
    """

    async def import_csv(self, text: str, *, replace: bool, by: str, skip_bad: bool = False) -> ImportReport: ...

    async def intents(self) -> list[IntentSummary]: ...

    async def add_intent(self, name: str, *, by: str) -> str: ...

    async def add_example(self, text: str, intent: str, *, by: str) -> Example: ...

    async def remove_example(self, text: str, *, by: str) -> None:
        """``NotFound`` when no curated example has this text."""

    async def examples(self, intent: str, limit: int = 200) -> list[Example]: ...

    async def export(self) -> dict[str, str]: ...

    async def turns(self, *, limit: int = 100, pending_only: bool = True) -> list[BotTurnRecord]: ...

    async def label_turn(self, turn_id: str, intent: str, *, by: str) -> Example: ...

    async def start_training(self, *, by: str) -> ModelRecord: ...

    async def train(self, *, by: str, on_progress: Callable[[ModelRecord], Awaitable[None]] | None = None
                    ) -> ModelRecord: ...

    async def models(self) -> list[ModelRecord]: ...

    async def model(self, model_id: str) -> ModelRecord: ...

    async def evaluate(self, model_id: str, csv_text: str | None = None) -> dict[str, Any]: ...

    async def serving_metrics(self) -> dict[str, Any] | None: ...

    async def activate(self, model_id: str | None, *, by: str) -> ModelRecord: ...


class Exclusive(Protocol):
    """Work that must run in one hub process at a time (``hub.leases.RedisLeases``)."""

    async def exclusive(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` whenever this process holds the lease ``name``; returns only when cancelled."""
        ...


class RateLimiter(Protocol):
    """Token buckets shared by every hub process (``hub.limits.RedisRateLimiter``)."""

    async def allow(self, key: str, *, rate_per_s: float, burst: float) -> bool: ...

    async def retry_after_s(self, key: str, *, rate_per_s: float, burst: float) -> float:
        """Spend a token: 0 when there was one, else the seconds until there is (nothing spent)."""
        ...


# -- inbound: the one way a channel hands in what a customer sent -----------------------------------

class Accepted(Protocol):
    """What a channel learns of a customer message it handed in."""

    @property
    def message(self) -> Message: ...

    @property
    def duplicate(self) -> bool: ...


class Inbox(Protocol):
    """The inbound port every channel uses (``hub.conversations.customers.CustomerInbox``).

    ``accept_inbound`` recognises the contact by ``(channel, sender)``, stores the message and its
    files durably, lets the bot answer when it holds the conversation, and only then returns: the
    channel acknowledges its provider after that (HTTP 200, the next poll offset, the stored UID).
    Idempotent on ``(channel, external_id)``: a repeat returns the stored message, ``duplicate``.

    Raises:
        InvalidText, InvalidInput: the message can never be stored (refuse it, do not retry).
        ServiceUnavailable: the hub cannot store it now (retry later). The inbox channels get
            from the registry (``hub.inbound.GuardedInbox``) reports a storage outage this way
            too, so no channel needs to know the database's exception types. Any other
            exception: not stored; the channel's provider should deliver it again.
    """

    async def accept_inbound(self, inbound: InboundMessage) -> Accepted: ...


class SessionInbox(Inbox, Protocol):
    """What a channel with live sessions (web chat, later voice) needs besides ``accept_inbound``:
    it keeps the contact and the open conversation between messages, so a message costs no lookup,
    and it acknowledges the customer before the bot answers (``receive``, ack, then
    ``after_customer_message``)."""

    async def accept_inbound(self, inbound: InboundMessage) -> Received: ...

    async def contact_for(self, channel: ChannelName, address: str, display_name: str) -> dict[str, Any]: ...

    async def open_conversation(self, contact_id: str) -> Conversation | None: ...

    async def receive(self, inbound: InboundMessage, *, contact_id: str, contact_name: str,
                      known: ConversationRef | None) -> Received: ...

    async def after_customer_message(self, received: Received, payload: str | None = None) -> None: ...

    async def typing(self, conversation_id: str, who: Author, active: bool) -> None: ...

    async def receipts(self, conversation_id: str, message_ids: list[str], status: DeliveryStatus,
                       author: Author) -> None: ...


# -- the other audiences of a conversation (hub/conversations) --------------------------------------

class AgentDesk(Protocol):
    """What the console does to conversations for an agent (``hub.conversations.agents.AgentSide``).

    ``view``/``look`` raise ``Forbidden`` unless ``hub.domain.visibility`` lets the agent see the
    conversation, ``NotFound`` for an unknown id; ``may_view`` is the same rule over a summary
    without reading anything. Changing a conversation (``reply``, ``read_by_agent``, ``transfer``,
    ``wrap_up``, ``resolve``) needs the agent to hold it (supervisors and admins may always):
    ``Forbidden`` otherwise; ``IllegalTransition`` for a move the state machine refuses.
    """

    async def conversation(self, conversation_id: str) -> Conversation: ...

    async def view(self, agent: Agent, conversation_id: str) -> dict[str, Any]: ...

    async def look(self, agent: Agent, conversation_id: str, *,
                   with_line: bool = False) -> tuple[dict[str, Any], Sight]: ...

    def may_view(self, agent: Agent, doc: Mapping[str, Any]) -> bool: ...

    async def reply(self, agent: Agent, conversation_id: str, text: str, *, private: bool) -> Message: ...

    async def read_by_agent(self, agent: Agent, conversation_id: str) -> None: ...

    async def delivered_to_agents(self, delivered: list[tuple[str, str, datetime]]) -> None:
        """Customer messages pushed to their agent's console, as ``(conversation_id, message_id, sent_at)``."""
        ...

    async def typing(self, conversation_id: str, who: Author, active: bool) -> None: ...

    async def transfer(self, agent: Agent, conversation_id: str, queue_id: str) -> Conversation: ...

    async def wrap_up(self, agent: Agent, conversation_id: str, code: str) -> Conversation: ...

    async def resolve(self, agent: Agent, conversation_id: str) -> Conversation: ...


class BotConversations(Protocol):
    """What the bot does in a conversation (``hub.conversations.bot_side.BotSide``; used by
    ``bot.service``). ``bot_reply`` returns None when a human holds the conversation meanwhile."""

    async def conversation(self, conversation_id: str) -> Conversation: ...

    async def transcript(self, conversation_id: str) -> list[Message]: ...

    async def bot_memory(self, conversation_id: str) -> dict[str, Any]: ...

    async def remember_bot_turn(self, conversation_id: str, intent: str | None, confidence: float,
                                fallbacks: int) -> None: ...

    async def bot_reply(self, conversation_id: str, text: str, buttons: list[dict[str, str]]) -> Message | None: ...

    async def queue_for_humans(self, conversation: Conversation, queue_id: str, *, event_type: EventType,
                               handover: Mapping[str, Any] | None = None,
                               detail: Mapping[str, str] | None = None) -> Conversation: ...


class ConversationTransitions(Protocol):
    """State changes as routing makes them (``hub.conversations.transitions.Transitions``): stored
    with their event, then told to every process. Raises ``IllegalTransition`` for a move that is no
    edge or an ``event_type`` not bound to it, ``ConcurrentUpdate`` when another writer won."""

    async def transition(self, conversation: Conversation, target: ConversationState, event_type: EventType, *,
                         actor: str, changes: Mapping[str, Any] | None = None,
                         detail: Mapping[str, str] | None = None) -> Conversation: ...

    async def transition_many(self, moves: Sequence[Move]) -> list[MoveOutcome]:
        """Many transitions stored together (one round's offers); each refused alone, never the batch."""
        ...


class DeliveryReports(Protocol):
    """Provider delivery reports (Kannel DLRs) for messages the outbox sent (``hub.outbox.Outbox``)."""

    async def delivery_report(self, channel: str, provider_id: str, status: DeliveryStatus) -> bool:
        """Move the message's status forward; False when no message has that provider id (yet)."""
        ...


class MailboxProgress(Protocol):
    """Where reading each mailbox stands: the last UID handed to the hub, per UIDVALIDITY.

    Raises ``ServiceUnavailable`` when the store cannot answer (the watcher waits and retries)."""

    async def last_uid(self, mailbox: str, uidvalidity: int) -> int: ...

    async def advance(self, mailbox: str, uidvalidity: int, uid: int, at: datetime) -> None:
        """Only forward: a slower process never moves another's progress back."""
        ...


# -- what the console reads and writes (implemented in hub/storage) ---------------------------------

class Directory(Protocol):
    """Agents, teams, queues, canned replies and wrap-up codes (``hub.storage.directory.MongoDirectory``).

    ``agent``, ``queue`` and ``team`` raise ``NotFound``; ``add_agent`` raises ``InvalidInput`` for a
    taken name. A team leader read through ``agent``, ``agent_by_username`` or ``agents`` carries
    the members of the teams she leads in ``Agent.leads``.
    """

    async def add_agent(self, agent: Agent) -> None: ...

    async def update_agent(self, agent_id: str, fields: Mapping[str, Any]) -> None: ...

    async def set_status(self, agent_id: str, status: AgentStatus, *, reason: str | None = None,
                         at: datetime | None = None) -> Agent:
        """Store the agent's presence status (and a pause's reason; ``at``: since when); returns the
        agent as stored after it."""
        ...

    async def agent(self, agent_id: str) -> Agent: ...

    async def agent_by_username(self, username: str) -> Agent | None: ...

    async def agents(self) -> list[Agent]: ...

    async def put_queue(self, queue: Queue) -> None: ...

    async def queue(self, queue_id: str) -> Queue: ...

    async def put_department(self, department: Department) -> None: ...

    async def department(self, department_id: str) -> Department:
        """A work orders' department; ``NotFound`` for an unknown id."""
        ...

    async def departments(self) -> list[Department]: ...

    async def queues(self) -> list[Queue]: ...

    async def put_canned(self, reply: CannedReply) -> None: ...

    async def canned(self) -> list[CannedReply]: ...

    async def put_wrap_up_code(self, code: WrapUpCode) -> None: ...

    async def delete_wrap_up_code(self, code: str) -> bool:
        """False: no such code. Conversations wrapped up with it keep it."""

    async def wrap_up_codes(self) -> list[WrapUpCode]: ...

    async def put_team(self, team: Team) -> None:
        """Create or replace a team (``hub.teams`` checks leader and members first)."""
        ...

    async def team(self, team_id: str) -> Team: ...

    async def teams(self) -> list[Team]: ...


class AgentStateLog(Protocol):
    """The agents' state spans (``hub.storage.agent_states.MongoAgentStateLog``; ADR 0026).

    ``record`` opens the agent's new span and closes her open one at its start; ``spans`` returns
    those overlapping ``[since, until)``, oldest first, of some agents or all.
    """

    async def record(self, span: StateSpan) -> None: ...

    async def spans(self, *, since: datetime, until: datetime,
                    agent_ids: Collection[str] | None = None) -> list[StateSpan]: ...


class ConversationRecords(Protocol):
    """Conversations and their events as the console reads them (``MongoConversationStore``).

    Documents are plain dicts in the stored shape (``hub.wire.summary_json`` renders them), with
    their inbox lines (ADR 0067; ``get_doc(with_line=False)``: without, one read less, for who needs
    no ``preview``/``unread``); the newest first, at most ``limit``. ``get``/``get_doc`` raise ``NotFound``.
    """

    async def get(self, conversation_id: str) -> Conversation: ...

    async def get_doc(self, conversation_id: str, *, with_line: bool = True) -> dict[str, Any]: ...

    async def events_of(self, conversation_id: str) -> list[dict[str, Any]]: ...

    async def events_since(self, since: datetime, limit: int = 500_000) -> list[dict[str, Any]]: ...

    async def held_by(self, agent_id: str, states: frozenset[ConversationState],
                      limit: int = 200) -> list[dict[str, Any]]:
        """The agent's conversations in one of ``states``."""
        ...

    async def queued_within(self, skills: frozenset[str] | None, limit: int = 200) -> list[dict[str, Any]]:
        """Queued conversations needing no skill outside ``skills``; None: every queued one."""
        ...


class MessageLog(Protocol):
    """Stored messages as readers see them (``MongoMessageStore``)."""

    async def get(self, message_id: str) -> Message | None: ...

    async def timeline(self, conversation_id: str, *, include_private: bool,
                       since: datetime | None = None, limit: int = 500) -> list[Message]:
        """The conversation's messages, oldest first; ``since`` inclusive."""
        ...


class LoginSessions(Protocol):
    """Console login sessions (``MongoSessionStore``); only a digest of the token is stored."""

    async def create(self, token: str, agent_id: str, csrf_token: str, expires_at: datetime) -> None: ...

    async def get(self, token: str, now: datetime) -> LoginSession | None:
        """The session, unless unknown or expired at ``now``."""
        ...

    async def delete(self, token: str) -> None: ...

    async def delete_for_agent(self, agent_id: str, *, keep_token: str | None = None) -> int:
        """End the agent's sessions (but ``keep_token``'s); returns how many ended."""
        ...


class AttachmentFiles(Protocol):
    """Stored attachments (``MongoAttachmentStore``)."""

    async def file(self, attachment_id: str) -> StoredAttachment | None: ...


class AgentFileSender(Protocol):
    """An agent's file into a conversation she holds (``hub.conversations.agent_files.AgentFiles``)."""

    async def send(self, agent: Agent, conversation_id: str, *, filename: str, data: bytes, caption: str) -> Message:
        ...


class CustomerFileAccess(Protocol):
    """A file of one of the customer's own conversations (``hub.customer_files.CustomerFiles``):
    None for an unknown id and for anyone else's, alike."""

    async def of_customer(self, channel: ChannelName, address: str, attachment_id: str) -> StoredAttachment | None: ...


class LoginThrottle(Protocol):
    """Who may try a password now (``hub.login_limits.RedisLoginThrottle``): ``attempt`` before a
    check returns the seconds to wait (0: go on); then exactly one of ``failed``, ``succeeded``
    or ``refund`` (the check could not run)."""

    async def attempt(self, username: str, address: str) -> float: ...

    async def failed(self, username: str, address: str) -> None: ...

    async def succeeded(self, username: str) -> None: ...

    async def refund(self, username: str) -> None: ...


class Waits(Protocol):
    """What routing knows of waiting (``routing.service.RoutingService``): for the customer's notices
    and the offline form (hub/customer_notices.py)."""

    async def position(self, queue: str, conversation_id: str) -> int | None:
        """1 for the next to be offered; None when the conversation is not waiting in ``queue``."""
        ...

    async def staffed(self, skills: frozenset[Skill]) -> bool:
        """Whether an agent with these skills is available now."""
        ...


class OfflineForms(Protocol):
    """The web chat's offline form (``hub.conversations.offline.OfflineIntake``)."""

    async def take(self, form: OfflineMessage) -> str:
        """Queue the form's message for a human; returns the conversation id."""
        ...


class AnswerTimes(Protocol):
    """Recent answer times of a queue (``hub.storage.kpi_intervals.MongoKpiIntervals``, the KPI projection)."""

    async def answer_times(self, queue: str, start: datetime, end: datetime) -> tuple[int, int]:
        """(answered waits, their summed wait in ms) in ``[start, end)``."""
        ...
