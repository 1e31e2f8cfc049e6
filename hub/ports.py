"""Ports: what the core needs from the outside, as Protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from hub.domain.ids import AgentStatus
from hub.domain.model import Agent, Conversation


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
