"""The widget's WebSocket endpoint: hello, then customer messages acknowledged after the write."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from aiohttp import WSMsgType, web

from channels.webchat import identity
from channels.webchat.parser import CustomerText, FrameError, Hello, Receipt, Typing, parse_frame
from channels.webchat.sessions import WidgetSession, WidgetSessions
from hub.context import HubContext
from hub.domain.ids import Author, DeliveryStatus, ExternalId
from hub.domain.model import InboundMessage
from hub.errors import HubError
from hub.ports import RateLimiter
from hub.service import ConversationRef
from hub.wire import message_json

logger = logging.getLogger(__name__)


class WebChatEndpoint:
    """The widget socket's handler; visitors' message rates are limited across all processes."""

    def __init__(self, hub: HubContext, sessions: WidgetSessions, limiter: RateLimiter) -> None:
        self._hub = hub
        self._sessions = sessions
        self._limiter = limiter
        self._settings = hub.settings.webchat
        self._secret = hub.settings.secret_key.get_secret_value().encode()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=self._settings.max_frame_bytes)
        await ws.prepare(request)
        session: WidgetSession | None = None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    await _error(ws, "bad_frame", "send JSON text frames")
                    continue
                session = await self._frame(ws, session, msg.data)
        finally:
            if session is not None:
                self._sessions.remove(session)
        return ws

    async def _frame(self, ws: web.WebSocketResponse, session: WidgetSession | None, raw: str) -> WidgetSession | None:
        try:
            frame = parse_frame(raw, max_text_chars=self._settings.max_text_chars)
            if isinstance(frame, Hello):
                if session is not None:
                    self._sessions.remove(session)
                return await self._hello(ws, frame)
            if session is None:
                raise FrameError("hello_required", "send hello first")
            if isinstance(frame, CustomerText):
                await self._message(session, frame)
            elif isinstance(frame, Typing) and session.conversation:
                await self._hub.service.typing(session.conversation.id, Author.CUSTOMER, frame.active)
            elif isinstance(frame, Receipt) and session.conversation:
                await self._hub.service.receipts(session.conversation.id, list(frame.message_ids),
                                                 DeliveryStatus(frame.status), Author.AGENT)
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

    async def _hello(self, ws: web.WebSocketResponse, hello: Hello) -> WidgetSession:
        visitor_id, token = hello.visitor_id, hello.token
        if visitor_id and not (token and identity.verify(self._secret, visitor_id, token)):
            await _error(ws, "bad_visitor", "unknown visitor; starting a new identity")
            visitor_id = None
        if not visitor_id:
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

    async def _message(self, session: WidgetSession, frame: CustomerText) -> None:
        allowed = await self._limiter.allow(
            f"webchat:{session.visitor_id}", rate_per_s=self._settings.rate_per_minute / 60,
            burst=max(10.0, self._settings.rate_per_minute / 6))
        if not allowed:
            raise FrameError("rate_limited", "too many messages; wait a moment")
        inbound = InboundMessage(channel="webchat", external_id=ExternalId(f"{session.visitor_id}:{frame.client_id}"),
                                 sender=session.visitor_id, text=frame.text, received_at=self._hub.clock.now())
        received = await self._hub.service.receive(inbound, contact_id=session.contact_id,
                                                   contact_name=session.contact_name, known=session.conversation)
        self._sessions.attach(session, received.conversation)
        await session.ws.send_json({"type": "ack", "client_id": frame.client_id,
                                    "message": message_json(received.message, with_private=False)})
        await self._hub.service.after_customer_message(received, frame.payload)


async def _error(ws: web.WebSocketResponse, code: str, message: str) -> None:
    if ws.closed:
        return
    with contextlib.suppress(ConnectionError, RuntimeError):  # the widget left meanwhile
        await ws.send_json({"type": "error", "code": code, "message": message})


def add_webchat_routes(app: web.Application, endpoint: WebChatEndpoint) -> None:
    app.router.add_get("/webchat/ws", endpoint.handle)

