"""Ports: what the core needs from the outside, as Protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from hub.domain.bot import BotTurn
from hub.domain.ids import AgentStatus, ChannelName
from hub.domain.model import Agent, Conversation, Message
from hub.domain.outbound import Outbound, SendResult
from hub.domain.training import BotTurnRecord, Example, ImportReport, IntentSummary, ModelRecord


class EventBus(Protocol):
    """Fan-out of facts to every hub process. At-most-once; never the only copy of anything."""

    async def publish(self, event: Mapping[str, Any]) -> None: ...


class Router(Protocol):
    """The ACD as the conversation service sees it. Implemented by ``routing.service``.

    ``enqueue`` is called after a conversation moved to ``queued`` in MongoDB; ``release`` after
    it left an agent (resolved, transferred); both are idempotent.
    """

    async def enqueue(self, conversation: Conversation) -> None: ...

    async def release(self, conversation: Conversation) -> None: ...

    async def withdraw(self, conversation: Conversation) -> None: ...


class Acd(Router, Protocol):
    """The ACD as the console sees it: offers, presence and the live overview."""

    async def accept(self, agent: Agent, conversation_id: str) -> Conversation: ...

    async def decline(self, agent: Agent, conversation_id: str) -> Conversation: ...

    async def set_presence(self, agent: Agent, status: AgentStatus) -> None: ...

    async def heartbeat(self, agent: Agent) -> None: ...

    async def overview(self) -> dict[str, Any]: ...

    async def offer_of(self, conversation_id: str) -> Any: ...


class Bot(Protocol):
    """The conversational bot (Rasa). Only conversations in state ``bot`` reach it.

    ``turn`` is idempotent per (conversation, message) as far as the hub is concerned; it raises
    ``BotUnavailable`` when the bot cannot answer (down, erroring or slower than its timeout).
    """

    async def turn(self, conversation_id: str, text: str, language: str | None = None) -> BotTurn:
        """``language`` (``en``/``zh``): the language to answer in; None keeps the conversation's last one."""
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
    """The outbox as the conversation service sees it (``hub.outbox.Outbox``)."""

    def claim_new(self) -> dict[str, Any]: ...

    def dispatch(self, message: Message, entry: Mapping[str, Any]) -> None: ...



class TrainingDesk(Protocol):
    """The bot trainer's workflow (``bot.training.desk``): curated examples, train, evaluate, activate.

    Raises ``InvalidInput`` for bad data or a training already running, ``NotFound`` for unknown ids,
    ``ServiceUnavailable`` when Rasa cannot load a model.
    """

    async def import_csv(self, text: str, *, replace: bool, by: str) -> ImportReport: ...

    async def intents(self) -> list[IntentSummary]: ...

    async def add_intent(self, name: str, *, by: str) -> None: ...

    async def add_example(self, text: str, intent: str, *, by: str) -> Example: ...

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
