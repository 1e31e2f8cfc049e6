"""Kannel's callbacks: ``GET /channels/sms/mo`` (customer SMS) and ``GET /channels/sms/dlr`` (delivery reports).

Kannel counts only 200 and 202 as done; anything else it retries (``http-request-retry``, from
smsbox memory) and then drops. So: 200 only once the message is stored (or known), 503 when the
hub cannot store it now (Kannel retries), 4xx for input no retry will fix (wrong secret 403,
malformed 400, too large 413), each with a log line that carries no phone number or text.
"""

from __future__ import annotations

import logging

from aiohttp import web

from channels.sms.parser import SmsInputError, parse_dlr, parse_mo, query_fields, secret_ok
from hub.clock import Clock
from hub.ports import DeliveryReports, Inbox

logger = logging.getLogger(__name__)


class SmsEndpoint:
    """The two handlers, with what they need: the inbound port and the outbox's delivery reports."""

    def __init__(self, *, inbox: Inbox, reports: DeliveryReports, clock: Clock, secret: str,
                 max_text_chars: int, max_query_bytes: int) -> None:
        self._inbox = inbox
        self._reports = reports
        self._clock = clock
        self._secret = secret.encode()
        self._max_text_chars = max_text_chars
        self._max_query_bytes = max_query_bytes

    async def mo(self, request: web.Request) -> web.Response:
        try:
            fields = self._verified(request)
            inbound = parse_mo(fields, received_at=self._clock.now(), max_text_chars=self._max_text_chars)
        except SmsInputError as err:
            return _refuse("mo", err)
        try:
            received = await self._inbox.accept_inbound(inbound)
        except Exception:
            logger.exception("sms.mo.store_failed id=%s", inbound.external_id)
            return web.Response(status=503, text="not stored; retry")
        logger.info("sms.mo.accepted id=%s message=%s duplicate=%s", inbound.external_id, received.message.id,
                    received.duplicate)
        return web.Response(status=200)  # empty: with the service's max-messages = 0 nothing is sent back

    async def dlr(self, request: web.Request) -> web.Response:
        try:
            report = parse_dlr(self._verified(request))
        except SmsInputError as err:
            return _refuse("dlr", err)
        if not await self._reports.delivery_report("sms", report.ref, report.status):
            # Kannel can report before the outbox stored our 202: a 404 makes it retry in a moment.
            logger.info("sms.dlr.unknown ref=%s kannel_status=%d", report.ref, report.kannel_status)
            return web.Response(status=404, text="unknown message")
        logger.info("sms.dlr ref=%s kannel_status=%d status=%s", report.ref, report.kannel_status, report.status)
        return web.Response(status=200)

    def _verified(self, request: web.Request) -> dict[str, bytes]:
        fields = query_fields(request.rel_url.raw_query_string, max_bytes=self._max_query_bytes)
        if not secret_ok(fields, self._secret):
            raise SmsInputError("wrong secret", 403)
        return fields


def _refuse(kind: str, err: SmsInputError) -> web.Response:
    logger.warning("sms.%s.refused status=%d reason=%s", kind, err.status, err.reason)
    return web.Response(status=err.status, text=err.reason)


def add_sms_routes(app: web.Application, endpoint: SmsEndpoint) -> None:
    app.router.add_get("/channels/sms/mo", endpoint.mo)
    app.router.add_get("/channels/sms/dlr", endpoint.dlr)
