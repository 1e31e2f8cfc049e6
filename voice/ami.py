"""One AMI (Asterisk Manager Interface) session over panoramisk, with our lifecycle around it.

panoramisk parses the AMI stream and matches answers to actions; reconnecting is ours, not its own:
a lost or stalled connection ends :meth:`AmiSession.watch` with ``AmiLost``, the hub's supervisor
restarts the voice line with backoff, and the line reconciles its calls on the next login. So
panoramisk's own reconnect timer and its pinger are pushed out of reach (``NEVER_S``), and we ping
with a timeout ourselves (panoramisk's ping never notices a peer that stops answering).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from panoramisk import Manager  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

NEVER_S = 10**9  # panoramisk's reconnect and ping timers: ours run instead
# Events that complete an action's answer (an asynchronous Originate, a list): never filtered out.
ANSWER_EVENTS = ("OriginateResponse", "CoreShowChannel", "CoreShowChannelsComplete")
AmiEvent = Mapping[str, str]


class AmiLost(Exception):
    """The PBX cannot be reached, refused the login, stopped answering or closed the connection."""


class AmiSession:
    """``async with AmiSession(...) as ami``: logged in, events of ``events`` handed to ``on_event``
    (synchronously, in the order received; keep the callback short: queue the work)."""

    def __init__(self, *, host: str, port: int, user: str, secret: str, timeout_s: float, ping_s: float,
                 events: Iterable[str], on_event: Callable[[AmiEvent], None],
                 answer_events: Iterable[str] = ANSWER_EVENTS) -> None:
        self._host, self._port, self._user, self._secret = host, port, user, secret
        self._timeout_s = timeout_s
        self._ping_s = ping_s
        self._events = tuple(events)
        self._answer_events = tuple(answer_events)
        self._on_event = on_event
        self._manager: Manager | None = None
        self._logged_in = asyncio.Event()
        self._lost = asyncio.Event()

    async def __aenter__(self) -> AmiSession:
        manager = Manager(host=self._host, port=self._port, username=self._user, secret=self._secret,
                          ping_delay=NEVER_S, ping_interval=NEVER_S, reconnect_timeout=NEVER_S,
                          loop=asyncio.get_running_loop(), on_login=lambda _m: self._logged_in.set(),
                          on_disconnect=lambda _m, _exc: self._lost.set(), log=logger)
        for name in self._events:
            manager.register_event(name, self._dispatch)
        self._manager = manager
        try:
            async with asyncio.timeout(self._timeout_s):
                await manager.connect()
                await self._logged_in.wait()
        except (OSError, TimeoutError) as err:
            self._close()
            raise AmiLost(f"AMI {self._host}:{self._port} unreachable or login refused") from err
        await self._filter_events()
        logger.info("voice.ami.logged_in host=%s port=%d", self._host, self._port)
        return self

    async def _filter_events(self) -> None:
        """Ask Asterisk for the events we handle only (about 100 per call otherwise: VarSet, Newexten,
        ...; each parsed in this event loop), and those that are parts of actions' answers
        (``answer_events``: OriginateResponse, the CoreShowChannel list)."""
        for name in (*self._events, *self._answer_events):
            answer = await self.action({"Action": "Filter", "Operation": "Add", "Filter": f"Event: {name}"})
            if not succeeded(answer):
                logger.warning("voice.ami.filter_refused event=%s (every event will be received)", name)
                return

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._close()

    def _close(self) -> None:
        if self._manager is not None:
            with contextlib.suppress(Exception):
                self._manager.close()
            self._manager = None

    def _dispatch(self, _manager: Manager, message: Any) -> None:
        try:
            self._on_event({str(k): str(v) for k, v in message.items()})
        except Exception:
            logger.exception("voice.ami.event_handler_failed event=%s", message.get("Event"))

    async def action(self, fields: Mapping[str, Any], *, timeout_s: float | None = None,
                     as_list: bool | None = None) -> Any:
        """Send an action and return panoramisk's answer (a message, or a list for actions that
        answer with several). Raises ``AmiLost`` when no answer comes within the timeout."""
        if self._manager is None or self._lost.is_set():
            raise AmiLost("the AMI session is closed")
        try:
            async with asyncio.timeout(timeout_s or self._timeout_s):
                return await self._manager.send_action(dict(fields), as_list=as_list)
        except TimeoutError as err:
            raise AmiLost(f"AMI action {fields.get('Action')} unanswered") from err

    async def watch(self) -> None:
        """Return never: raise ``AmiLost`` when the connection closes or a Ping goes unanswered."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._ping_s):
                    await self._lost.wait()
            if self._lost.is_set():
                raise AmiLost("the AMI connection closed")
            answer = await self.action({"Action": "Ping"})
            if not succeeded(answer):
                raise AmiLost("the AMI Ping failed")


def succeeded(answer: Any) -> bool:
    """Whether an action's (first) answer says ``Response: Success``."""
    first = answer[0] if isinstance(answer, list) and answer else answer
    return isinstance(first, Mapping) and str(first.get("Response", "")).lower() == "success"
