"""The agent desk: what the console does to a conversation on an agent's behalf, within what
``hub.domain.visibility`` lets her see and what holding the conversation lets her change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from hub.conversations.core import MAX_RECEIPTS, ConversationCore
from hub.conversations.outgoing import Outgoing
from hub.conversations.transitions import Transitions
from hub.domain.events import EventType, MessagesDelivered, MessageStored, StatusChanged
from hub.domain.ids import Author, ConversationId, DeliveryStatus, MessageId, Role, new_id
from hub.domain.model import Agent, Conversation, Message
from hub.domain.outbound import Route
from hub.domain.reply_limits import DEFAULT_LIMIT, ReplyLimit
from hub.domain.states import HELD_BY_AGENT, ConversationState
from hub.domain.text import require_valid_text
from hub.domain.visibility import FINISHED, SERVES, ConversationFacts, Sight, conversation_sight
from hub.errors import Forbidden, InvalidInput, ReplyTooLong
from hub.ports import Directory, Router
from hub.wire import message_json

S = ConversationState
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})


class AgentSide:
    """Implements ``hub.ports.AgentDesk``."""

    def __init__(self, core: ConversationCore, transitions: Transitions, outgoing: Outgoing, *,
                 directory: Directory, router: Router,
                 reply_limit: Callable[[str], ReplyLimit] = lambda _channel: DEFAULT_LIMIT) -> None:
        self._core = core
        self._reply_limit = reply_limit  # channel name -> its limit (``ChannelRegistry.reply_limit``)
        self._transitions = transitions
        self._outgoing = outgoing
        self._directory = directory
        self._router = router

    async def conversation(self, conversation_id: str) -> Conversation:
        return await self._core.conversations.get(conversation_id)

    async def view(self, agent: Agent, conversation_id: str) -> dict[str, Any]:
        """The conversation's document if ``agent`` may see it (``hub.domain.visibility``); Forbidden
        otherwise, NotFound for an unknown id."""
        doc, _ = await self.look(agent, conversation_id)
        return doc

    async def look(self, agent: Agent, conversation_id: str, *,
                   with_line: bool = False) -> tuple[dict[str, Any], Sight]:
        """Like ``view``, with how much ``agent`` may see: whether private notes are hers to read;
        ``with_line``: the document carries its inbox line (preview, unread), one read more."""
        conversations = self._core.conversations
        doc = await conversations.get_doc(conversation_id, with_line=with_line)
        served = False
        if agent.role in SERVES and S(doc["state"]) in FINISHED and doc.get("agent_id") != agent.id:
            served = any(e["type"] == "assigned" and e.get("agent_id") == agent.id
                         for e in await conversations.events_of(doc["_id"]))
        sight = conversation_sight(agent, ConversationFacts.of(doc, served_by_viewer=served))
        if not sight.visible:
            raise Forbidden("this conversation is not yours to see")
        return doc, sight

    @staticmethod
    def may_view(agent: Agent, doc: Mapping[str, Any]) -> bool:
        """The visibility rule without reading anything (the live fan-out works from summaries):
        a finished conversation counts as served only by the agent it names."""
        return conversation_sight(agent, ConversationFacts.of(doc)).visible

    async def _held(self, agent: Agent, conversation_id: str, *, cached: bool = False) -> Conversation:
        """The conversation if ``agent`` holds it (or supervises). ``cached``: from the message path's
        view (``hub.conversations.current``) rather than a read, for what changes no state."""
        current = self._core.current
        conversation = await (current.get(conversation_id) if cached else self._core.conversations.get(conversation_id))
        if conversation.agent_id != agent.id and agent.role not in SUPERVISING:
            raise Forbidden("only the agent holding the conversation can do this")
        return conversation

    async def reply(self, agent: Agent, conversation_id: str, text: str, *, private: bool) -> Message:
        text = text.strip()
        if not text:
            raise InvalidInput("the message is empty")
        require_valid_text("text", text)
        conversation = await self._held(agent, conversation_id, cached=True)
        if conversation.state not in HELD_BY_AGENT and not private:
            raise InvalidInput(f"cannot reply while the conversation is {conversation.state}")
        route = Route(conversation.channel, None) if private else await self._outgoing.route(conversation)
        limit = DEFAULT_LIMIT if private else self._reply_limit(route.channel)
        refusal = limit.refusal(text, "a note" if private else route.channel)
        if refusal is not None:  # refused whole, never truncated or split behind the agent's back
            raise ReplyTooLong(refusal)
        message = await self._outgoing.store(Message(
            id=MessageId(new_id("m")), conversation_id=conversation.id, channel=route.channel,
            author=Author.AGENT, author_id=agent.id, author_name=agent.display_name, text=text,
            sent_at=self._core.clock.now(), status=DeliveryStatus.SENT, private=private, address=route.address,
        ), thread=route.thread)
        await self._core.tell(MessageStored(conversation_id=conversation.id, holder=conversation.agent_id,
                                            message=message_json(message, live=self._core.live)))
        return message

    async def holding(self, agent: Agent, conversation_id: str) -> Conversation:
        """The conversation if ``agent`` holds it in a state that takes replies (what sending a file
        asks, ``hub.conversations.agent_files``)."""
        conversation = await self._held(agent, conversation_id, cached=True)
        if conversation.state not in HELD_BY_AGENT:
            raise InvalidInput(f"cannot reply while the conversation is {conversation.state}")
        return conversation

    async def delivered_to_agents(self, delivered: list[tuple[str, str, datetime]]) -> None:
        """Customer messages pushed to their agent's console, as ``(conversation_id, message_id, sent_at)``.

        One watermark per conversation (``delivered_until``), stored in the summary writer's next
        bulk write before any widget is told; the statuses go out to the widgets, which only ever
        move a message's status forward, so a late "delivered" after "read" changes nothing."""
        if not delivered:
            return
        until: dict[str, datetime] = {}
        for conversation_id, _, sent_at in delivered:
            until[conversation_id] = max(sent_at, until.get(conversation_id, sent_at))
        stored = await self._core.messages.delivered(until)
        told = [(cid, mid) for cid, mid, _ in delivered if cid in stored]  # a refused watermark: nobody is told
        if told:  # one fact for the batch, not one per message (ADR 0062)
            await self._core.tell(MessagesDelivered(conversation_ids=tuple(c for c, _ in told),
                                                    message_ids=tuple(m for _, m in told)))

    async def read_by_agent(self, agent: Agent, conversation_id: str) -> None:
        """The agent read the conversation: one read of what was unread, then one watermark
        (``read_until``, the newest of them) coalesced in the summary writer's next bulk write with
        ``unread`` cleared, however many messages (ADR 0058); the widget is told once it is stored."""
        await self._held(agent, conversation_id, cached=True)
        unread = await self._core.messages.unread_by_agents(conversation_id, MAX_RECEIPTS)
        await self._core.messages.read_until(conversation_id, max((at for _, at in unread), default=None))
        for message_id, _ in reversed(unread):
            await self._core.tell(StatusChanged(conversation_id=ConversationId(conversation_id),
                                                message_id=MessageId(message_id), status=DeliveryStatus.READ,
                                                author=Author.CUSTOMER))

    async def typing(self, conversation_id: str, who: Author, active: bool) -> None:
        await self._core.typing(conversation_id, who, active)

    async def transfer(self, agent: Agent, conversation_id: str, queue_id: str) -> Conversation:
        conversation = await self._held(agent, conversation_id)
        queue = await self._directory.queue(queue_id)
        moved = await self._transitions.transition(
            conversation, S.QUEUED, EventType.TRANSFERRED, actor=agent.id,
            changes={"queue": queue.id, "skills": queue.skills, "priority": queue.priority, "agent_id": None,
                     "queued_at": self._core.clock.now()},
            detail={"from_queue": conversation.queue or "", "to_queue": queue.id},
        )
        await self._router.release(conversation)
        await self._router.enqueue(moved, skip=[conversation.agent_id] if conversation.agent_id else [])
        return moved

    async def wrap_up(self, agent: Agent, conversation_id: str, code: str) -> Conversation:
        conversation = await self._held(agent, conversation_id)
        if code not in {c.code for c in await self._directory.wrap_up_codes()}:
            raise InvalidInput(f"unknown wrap-up code {code!r}")
        # A call's end put it in wrap-up already: the code chosen afterwards is an event of its own.
        kind = EventType.WRAP_UP_CODED if conversation.state is S.WRAP_UP else EventType.WRAPPED_UP
        return await self._transitions.transition(conversation, S.WRAP_UP, kind, actor=agent.id,
                                                  changes={"wrap_up_code": code}, detail={"code": code})

    async def resolve(self, agent: Agent, conversation_id: str) -> Conversation:
        conversation = await self._held(agent, conversation_id)
        resolved = await self._transitions.transition(conversation, S.RESOLVED, EventType.RESOLVED, actor=agent.id)
        if conversation.state is S.QUEUED:  # a supervisor closing a waiting conversation
            await self._router.withdraw(conversation)
        else:
            await self._router.release(conversation)
        return resolved
