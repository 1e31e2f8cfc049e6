"""The widget's WebSocket endpoint: hello, then customer messages acknowledged after the write."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from channels.webchat import identity
from channels.webchat.parser import CustomerText, FrameError, Hello, Receipt, Typing, parse_frame
from channels.webchat.sessions import WidgetSession, WidgetSessions
from hub.client_address import client_address, parse_networks
from hub.clock import Clock
from hub.config import Settings
from hub.domain.contact_details import visitor_tag
from hub.domain.ids import Author, DeliveryStatus, ExternalId
from hub.domain.model import InboundMessage
from hub.domain.received import ConversationRef
from hub.domain.states import OPEN_STATES
from hub.errors import HubError
from hub.ports import MessageLog, RateLimiter, SessionInbox
from hub.ratelimit import Bucket, take
from hub.socket_writer import SocketWriter, abort_transport
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
    """One widget socket: the client address it counts against, what it has created so far, and
    its frame budget (kept in this process: a socket lives in one)."""

    address: str
    created: dict[str, int] = field(default_factory=dict)
    frames: Bucket | None = None


class SampledLog:
    """One warning per kind of refusal every ``every_s``, with how many were left out: an attack
    must not cost a log line per refused frame (the disk, and the operator's reading)."""

    def __init__(self, every_s: float = 10.0) -> None:
        self._every_s = every_s
        self._last: dict[str, tuple[float, int]] = {}

    def warning(self, event: str, **fields: object) -> None:
        now = time.monotonic()
        last, skipped = self._last.get(event, (-self._every_s, 0))
        if now - last < self._every_s:
            self._last[event] = (last, skipped + 1)
            return
        self._last[event] = (now, 0)
        details = " ".join(f"{name}={value}" for name, value in fields.items())
        logger.warning("%s %s suppressed_since_last=%d", event, details, skipped)


class WebChatEndpoint:
    """The widget socket's handler. Limits, shared by all processes: messages per visitor, and new
    identities and new conversations per client address; per connection, a cap on both."""

    def __init__(self, settings: Settings, *, inbox: SessionInbox, history: MessageLog, clock: Clock,
                 sessions: WidgetSessions, limiter: RateLimiter, live: Container[str]) -> None:
        """``live``: the live channels' names (``hub.registry.ChannelRegistry.live``), for ``message_json``."""
        self._inbox = inbox
        self._live = live
        self._history = history
        self._clock = clock
        self._sessions = sessions
        self._limiter = limiter
        self._settings = settings.webchat
        self._secret = settings.secret_key.get_secret_value().encode()
        self._trusted_proxies = parse_networks(settings.http.trusted_proxies)
        self._http = settings.http
        webchat = self._settings
        self._identities = CreationLimit("identities", webchat.max_identities_per_connection,
                                         webchat.identities_per_minute, webchat.identities_burst)
        self._conversations = CreationLimit("conversations", webchat.max_conversations_per_connection,
                                            webchat.conversations_per_minute, webchat.conversations_burst)
        self._refusals = SampledLog()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        connection = Connection(client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                                               self._trusted_proxies))
        wait = await self._limiter.retry_after_s(f"webchat-connections:{connection.address}",
                                                 rate_per_s=self._settings.connections_per_minute / 60,
                                                 burst=self._settings.connections_burst)
        if wait > 0:  # refused before the upgrade: a reconnect storm costs no socket and no frames
            self._refusals.warning("webchat.address.limited", kind="connections")
            return web.json_response(
                {"error": {"code": "rate_limited", "message": "too many connections from this address"}},
                status=429, headers={"Retry-After": str(max(1, math.ceil(wait)))})
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=self._settings.max_frame_bytes)
        await ws.prepare(request)
        http = self._http
        # Every frame to the widget goes through its writer (hub.socket_writer): a widget that stops
        # reading is disconnected, never waited on; it reconnects and sends hello with since.
        writer = SocketWriter(ws, abort=lambda: abort_transport(request.transport),
                                                  name="webchat", max_frames=http.ws_buffer_frames,
                                                  send_timeout_s=http.ws_send_timeout_s).start()
        session: WidgetSession | None = None
        try:
            async for msg in ws:
                if not self._within_frame_budget(connection):
                    self._refusals.warning("webchat.connection.cap", kind="frames")
                    _error(writer, "too_many_frames", "this connection sends too many frames")
                    await writer.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too_many_frames")
                    break
                if msg.type is not WSMsgType.TEXT:
                    _error(writer, "bad_frame", "send JSON text frames")
                    continue
                session = await self._frame(writer, connection, session, msg.data)
        finally:
            if session is not None:
                self._sessions.remove(session)
            await writer.stop()
        return ws

    async def _frame(self, ws: SocketWriter, connection: Connection, session: WidgetSession | None,
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
                await self._inbox.typing(session.conversation.id, Author.CUSTOMER, frame.active)
            elif isinstance(frame, Receipt) and session.conversation:
                await self._inbox.receipts(session.conversation.id, list(frame.message_ids),
                                                 DeliveryStatus(frame.status), Author.AGENT)
        except Refused as err:
            _error(ws, err.code, str(err), retry_after_s=err.retry_after_s, client_id=err.client_id)
            if err.close is not None:
                await ws.close(code=err.close, message=err.code.encode())
        except FrameError as err:
            _error(ws, err.code, str(err))
        except HubError as err:
            _error(ws, err.code, str(err))
        except Exception:
            if ws.closed:
                return session  # the widget went away while we answered: an ordinary disconnect
            # Not acknowledged, so the widget keeps the message in its outbox and resends it.
            logger.exception("webchat.frame.failed")
            _error(ws, "internal", "the message could not be stored; it will be retried")
        return session

    async def _hello(self, ws: SocketWriter, connection: Connection, hello: Hello) -> WidgetSession:
        visitor_id, token = hello.visitor_id, hello.token
        if visitor_id and not (token and identity.verify(self._secret, visitor_id, token)):
            _error(ws, "bad_visitor", "unknown visitor; starting a new identity")
            visitor_id = None
        if not visitor_id:
            # No welcome without an identity: the socket closes and the widget reconnects later.
            await self._may_create(connection, self._identities, close_when_limited=True)
            visitor_id, token = identity.issue(self._secret)
        name = hello.name or f"Web visitor {visitor_tag(visitor_id)}"  # the panel's tag, never the id
        contact = await self._inbox.contact_for("webchat", visitor_id, name)
        open_conversation = await self._inbox.open_conversation(contact["_id"])
        session = WidgetSession(writer=ws, visitor_id=visitor_id, contact_id=contact["_id"],
                                contact_name=contact["display_name"],
                                conversation=ConversationRef.of(open_conversation) if open_conversation else None)
        self._sessions.add(session)
        history: list[dict[str, Any]] = []
        if open_conversation is not None:
            messages = await self._history.timeline(open_conversation.id, include_private=False,
                                                         since=hello.since)
            history = [message_json(m, live=self._live, with_private=False) for m in messages]
        ws.send({"type": "welcome", "visitor": {"id": visitor_id, "token": token},
                            "conversation_id": open_conversation.id if open_conversation else None,
                            "history": history})
        return session

    def _within_frame_budget(self, connection: Connection) -> bool:
        """Every frame, refused ones included, spends from the connection's bucket: a socket that
        sends garbage as fast as the hub answers is closed after a burst, not served forever."""
        allowed, connection.frames = take(connection.frames, now_s=time.monotonic(),
                                          rate_per_s=self._settings.frames_per_second,
                                          burst=self._settings.frames_burst)
        return allowed

    async def _may_create(self, connection: Connection, limit: CreationLimit, *, client_id: str | None = None,
                          close_when_limited: bool = False) -> None:
        """Count one new identity or conversation against the connection's cap and the address's bucket."""
        if connection.created.get(limit.kind, 0) >= limit.per_connection:
            self._refusals.warning("webchat.connection.cap", kind=limit.kind)
            raise Refused(f"too_many_{limit.kind}", f"this connection may not create more {limit.kind}",
                          client_id=client_id, close=WSCloseCode.POLICY_VIOLATION)
        wait = await self._limiter.retry_after_s(f"webchat-{limit.kind}:{connection.address}",
                                                 rate_per_s=limit.per_minute / 60, burst=limit.burst)
        if wait > 0:
            self._refusals.warning("webchat.address.limited", kind=limit.kind)
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
                                 sender=session.visitor_id, text=frame.text, received_at=self._clock.now())
        received = await self._inbox.receive(inbound, contact_id=session.contact_id,
                                                   contact_name=session.contact_name, known=session.conversation)
        self._sessions.attach(session, received.conversation)
        session.writer.send({"type": "ack", "client_id": frame.client_id,
                                    "message": message_json(received.message, live=self._live, with_private=False)})
        await self._inbox.after_customer_message(received, frame.payload)


def _error(ws: SocketWriter, code: str, message: str, *, retry_after_s: float | None = None,
           client_id: str | None = None) -> None:
    """Queue an error frame (nothing when the widget left meanwhile)."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if retry_after_s is not None:
        frame["retry_after_ms"] = max(1, math.ceil(retry_after_s * 1000))
    if client_id is not None:
        frame["client_id"] = client_id
    ws.send(frame)


def add_webchat_routes(app: web.Application, endpoint: WebChatEndpoint) -> None:
    app.router.add_get("/webchat/ws", endpoint.handle)

