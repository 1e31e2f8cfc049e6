"""The HTTP server under the app: a deadline for every request head, and a Server header without a version.

aiohttp closes idle keep-alive connections (``keepalive_timeout``) but sets no limit on how long a
request head may take to arrive: a client that trickles a header byte every few seconds (slowloris)
holds a connection, a parser and a task for as long as it likes. ``HubRunner`` serves the app with a
request handler that closes the connection when a head is not complete ``head_timeout_s`` after the
connection opened (first request) or after the head's first byte (later requests on a keep-alive
connection). A WebSocket, once upgraded, and a request being handled are never cut by it.

This leans on aiohttp's ``RequestHandler`` internals (``_request_count``, ``_messages``,
``_request_in_progress``, ``_upgraded``); ``tests/integration/test_http_hardening.py`` checks them
against the installed aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import hdrs, web
from aiohttp.web_protocol import RequestHandler

logger = logging.getLogger(__name__)

SERVER_NAME = "northgrid-hub"  # never aiohttp's own "Python/3.x aiohttp/3.y.z"


async def name_server(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every response the app prepares (pages, API, errors, static files, 101)."""
    response.headers[hdrs.SERVER] = SERVER_NAME


class HeadDeadlineHandler(RequestHandler):
    """aiohttp's connection handler with a head deadline; its own error answers (a request it could
    not parse) are named ``SERVER_NAME`` too, as they never reach the app."""

    __slots__ = ("_head_clock", "_head_timeout_s")

    def __init__(self, manager: web.Server, *, head_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._head_timeout_s = head_timeout_s
        self._head_clock: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._start_head_clock()

    def data_received(self, data: bytes) -> None:
        heads = self._request_count
        super().data_received(data)
        if self._request_count != heads or self._upgraded:
            self._stop_head_clock()
        elif data and not self._busy():
            self._start_head_clock()  # the first byte of the next head; later bytes do not extend it

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_head_clock()
        super().connection_lost(exc)

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        response = super().handle_error(request, status, exc, message)
        response.headers[hdrs.SERVER] = SERVER_NAME
        return response

    def _busy(self) -> bool:
        """A head is complete and waiting, a request is being handled, or the socket is a WebSocket."""
        return bool(self._messages) or self._request_in_progress or self._upgraded

    def _start_head_clock(self) -> None:
        if self._head_clock is None:
            self._head_clock = self._loop.call_later(self._head_timeout_s, self._head_timed_out)

    def _stop_head_clock(self) -> None:
        if self._head_clock is not None:
            self._head_clock.cancel()
            self._head_clock = None

    def _head_timed_out(self) -> None:
        self._head_clock = None
        if not self._busy():
            logger.info("http.head.timeout after_s=%s", self._head_timeout_s)
            self.force_close()


class HubServer(web.Server):
    """The low-level server the app runner made, creating ``HeadDeadlineHandler`` connections."""

    def __init__(self, plain: web.Server, *, head_timeout_s: float) -> None:
        super().__init__(plain.request_handler, request_factory=plain.request_factory,
                         handler_cancellation=plain.handler_cancellation, loop=plain._loop, **plain._kwargs)
        self._head_timeout_s = head_timeout_s

    def __call__(self) -> RequestHandler:
        return HeadDeadlineHandler(self, loop=self._loop, head_timeout_s=self._head_timeout_s, **self._kwargs)


class HubRunner(web.AppRunner):
    """``web.AppRunner`` with the head deadline and the idle (keep-alive) timeout of ``HttpSettings``."""

    def __init__(self, app: web.Application, *, head_timeout_s: float, idle_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(app, keepalive_timeout=idle_timeout_s, **kwargs)
        self._head_timeout_s = head_timeout_s

    async def _make_server(self) -> web.Server:
        return HubServer(await super()._make_server(), head_timeout_s=self._head_timeout_s)
