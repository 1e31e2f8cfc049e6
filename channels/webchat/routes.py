"""The widget's WebSocket endpoint: hello, then customer messages acknowledged after the write."""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from channels.webchat import identity
from channels.webchat.parser import CustomerText, FrameError, Hello, Receipt, Typing, parse_frame
from channels.webchat.sessions import WidgetSession, WidgetSessions
from hub.client_address import client_address, parse_networks
from hub.context import HubContext
from hub.domain.ids import Author, DeliveryStatus, ExternalId
from hub.domain.model import InboundMessage
from hub.domain.states import OPEN_STATES
from hub.errors import HubError
from hub.ports import RateLimiter
from hub.service import ConversationRef
from hub.wire import message_json

logger = logging.getLogger(__name__)


class Refused(FrameError):
    """A frame refused by a limit; ``retry_after_s`` tells the widget when to send it again, and
    ``close`` ends the connection (the widget reconnects with its backoff)."""

    def __init__(self, code: str, message: str, *, retry_after_s: float | None = None,
                 client_id: str | None = None, close: WSCloseCode | None = None) -> None:
        super().__init__(code, message)
        self.retry_after_s = retry_after_s
        self.client_id = client_id
        self.close = close


@dataclass(frozen=True, slots=True)
class CreationLimit:
    """How many of a kind of thing (visitor identities, conversations) a widget may create: at
    most ``per_connection`` on one socket, and ``burst`` then ``per_minute`` per client address."""

    kind: str
    per_connection: int
    per_minute: float
    burst: int


@dataclass(slots=True)
class Connection:
    """One widget socket: the client address it counts against and what it has created so far."""

    address: str
    created: dict[str, int] = field(default_factory=dict)


class WebChatEndpoint:
    """The widget socket's handler. Limits, shared by all processes: messages per visitor, and new
    identities and new conversations per client address; per connection, a cap on both."""

    def __init__(self, hub: HubContext, sessions: WidgetSessions, limiter: RateLimiter) -> None:
        self._hub = hub
        self._sessions = sessions
        self._limiter = limiter
        self._settings = hub.settings.webchat
        self._secret = hub.settings.secret_key.get_secret_value().encode()
        self._trusted_proxies = parse_networks(hub.settings.http.trusted_proxies)
        settings = self._settings
        self._identities = CreationLimit("identities", settings.max_identities_per_connection,
                                         settings.identities_per_minute, settings.identities_burst)
        self._conversations = CreationLimit("conversations", settings.max_conversations_per_connection,
                                            settings.conversations_per_minute, settings.conversations_burst)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=self._settings.max_frame_bytes)
        await ws.prepare(request)
        connection = Connection(client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                                               self._trusted_proxies))
        session: WidgetSession | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    await _error(ws, "bad_frame", "send JSON text frames")
                    continue
                session = await self._frame(ws, connection, session, msg.data)
        finally:
            if session is not None:
                self._sessions.remove(session)
        return ws

    async def _frame(self, ws: web.WebSocketResponse, connection: Connection, session: WidgetSession | None,
                     raw: str) -> WidgetSession | None:
        try:
            frame = parse_frame(raw, max_text_chars=self._settings.max_text_chars)
            if isinstance(frame, Hello):
                if session is not None:
                    self._sessions.remove(session)
                    session = None
                return await self._hello(ws, connection, frame)
            if session is None:
                raise FrameError("hello_required", "send hello first")
            if isinstance(frame, CustomerText):
                await self._message(connection, session, frame)
            elif isinstance(frame, Typing) and session.conversation:
                await self._hub.service.typing(session.conversation.id, Author.CUSTOMER, frame.active)
            elif isinstance(frame, Receipt) and session.conversation:
                await self._hub.service.receipts(session.conversation.id, list(frame.message_ids),
                                                 DeliveryStatus(frame.status), Author.AGENT)
        except Refused as err:
            await _error(ws, err.code, str(err), retry_after_s=err.retry_after_s, client_id=err.client_id)
            if err.close is not None:
                await ws.close(code=err.close, message=err.code.encode())
        except FrameError as err:
            await _error(ws, err.code, str(err))
        except HubError as err:
            await _error(ws, err.code, str(err))
        except Exception:
            if ws.closed:
                return session  # the widget went away while we answered: an ordinary disconnect
            # Not acknowledged, so the widget keeps the message in its outbox and resends it.
            logger.exception("webchat.frame.failed")
            await _error(ws, "internal", "the message could not be stored; it will be retried")
        return session

    async def _hello(self, ws: web.WebSocketResponse, connection: Connection, hello: Hello) -> WidgetSession:
        visitor_id, token = hello.visitor_id, hello.token
        if visitor_id and not (token and identity.verify(self._secret, visitor_id, token)):
            await _error(ws, "bad_visitor", "unknown visitor; starting a new identity")
            visitor_id = None
        if not visitor_id:
            # No welcome without an identity: the socket closes and the widget reconnects later.
            await self._may_create(connection, self._identities, close_when_limited=True)
            visitor_id, token = identity.issue(self._secret)
        name = hello.name or f"Web visitor {visitor_id[2:6].upper()}"
        contact = await self._hub.service.contact_for("webchat", visitor_id, name)
        open_conversation = await self._hub.service.open_conversation(contact["_id"])
        session = WidgetSession(ws=ws, visitor_id=visitor_id, contact_id=contact["_id"],
                                contact_name=contact["display_name"],
                                conversation=ConversationRef.of(open_conversation) if open_conversation else None)
        self._sessions.add(session)
        history: list[dict[str, Any]] = []
        if open_conversation is not None:
            messages = await self._hub.messages.timeline(open_conversation.id, include_private=False,
                                                         since=hello.since)
            history = [message_json(m, with_private=False) for m in messages]
        await ws.send_json({"type": "welcome", "visitor": {"id": visitor_id, "token": token},
                            "conversation_id": open_conversation.id if open_conversation else None,
                            "history": history})
        return session

    async def _may_create(self, connection: Connection, limit: CreationLimit, *, client_id: str | None = None,
                          close_when_limited: bool = False) -> None:
        """Count one new identity or conversation against the connection's cap and the address's bucket."""
        if connection.created.get(limit.kind, 0) >= limit.per_connection:
            logger.warning("webchat.connection.cap kind=%s", limit.kind)
            raise Refused(f"too_many_{limit.kind}", f"this connection may not create more {limit.kind}",
                          client_id=client_id, close=WSCloseCode.POLICY_VIOLATION)
        wait = await self._limiter.retry_after_s(f"webchat-{limit.kind}:{connection.address}",
                                                 rate_per_s=limit.per_minute / 60, burst=limit.burst)
        if wait > 0:
            logger.warning("webchat.address.limited kind=%s", limit.kind)
            raise Refused("rate_limited", f"too many new {limit.kind} from this address; wait a moment",
                          retry_after_s=wait, client_id=client_id,
                          close=WSCloseCode.TRY_AGAIN_LATER if close_when_limited else None)
        connection.created[limit.kind] = connection.created.get(limit.kind, 0) + 1

    async def _message(self, connection: Connection, session: WidgetSession, frame: CustomerText) -> None:
        wait = await self._limiter.retry_after_s(
            f"webchat:{session.visitor_id}", rate_per_s=self._settings.rate_per_minute / 60,
            burst=max(10.0, self._settings.rate_per_minute / 6))
        if wait > 0:  # the widget keeps the message and sends it again after retry_after_ms
            raise Refused("rate_limited", "too many messages; wait a moment", retry_after_s=wait,
                          client_id=frame.client_id)
        opens = session.conversation is None or session.conversation.state not in OPEN_STATES
        if opens:
            await self._may_create(connection, self._conversations, client_id=frame.client_id)
        inbound = InboundMessage(channel="webchat", external_id=ExternalId(f"{session.visitor_id}:{frame.client_id}"),
                                 sender=session.visitor_id, text=frame.text, received_at=self._hub.clock.now())
        received = await self._hub.service.receive(inbound, contact_id=session.contact_id,
                                                   contact_name=session.contact_name, known=session.conversation)
        self._sessions.attach(session, received.conversation)
        await session.ws.send_json({"type": "ack", "client_id": frame.client_id,
                                    "message": message_json(received.message, with_private=False)})
        await self._hub.service.after_customer_message(received, frame.payload)


async def _error(ws: web.WebSocketResponse, code: str, message: str, *, retry_after_s: float | None = None,
                 client_id: str | None = None) -> None:
    if ws.closed:
        return
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if retry_after_s is not None:
        frame["retry_after_ms"] = max(1, math.ceil(retry_after_s * 1000))
    if client_id is not None:
        frame["client_id"] = client_id
    with contextlib.suppress(ConnectionError, RuntimeError):  # the widget left meanwhile
        await ws.send_json(frame)


def add_webchat_routes(app: web.Application, endpoint: WebChatEndpoint) -> None:
    app.router.add_get("/webchat/ws", endpoint.handle)

