"""The Bot API webhook: verify the secret, bound the body, decode, hand over, answer.

Telegram redelivers on any non-2xx answer, so: 403 wrong secret, 413 too large, 400 not JSON
(a clear refusal; nothing stored), 200 for updates we ignore or could not read as an Update
(redelivering would not help), 503 when storing failed for now (Telegram tries again).
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from channels.telegram.adapter import WEBHOOK_PATH, TelegramChannel
from channels.telegram.parser import UpdateError, decode_update, to_update

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class BodyTooLarge(Exception):
    pass


class TelegramWebhook:
    def __init__(self, channel: TelegramChannel) -> None:
        self._channel = channel

    async def handle(self, request: web.Request) -> web.Response:
        if not self._authentic(request):
            logger.warning("telegram.webhook.forbidden remote=%s", request.remote)
            return _error(403, "forbidden")
        try:
            data = decode_update(await _read_limited(request, self._channel.max_update_bytes))
        except BodyTooLarge:
            logger.warning("telegram.webhook.too_large limit=%d", self._channel.max_update_bytes)
            return _error(413, "payload too large")
        except UpdateError as err:
            logger.warning("telegram.webhook.bad_json error=%s", err)
            return _error(400, "body must be a JSON Update object")
        update = to_update(data)
        if update is None:
            logger.warning("telegram.webhook.not_an_update keys=%s", ",".join(sorted(data)[:10]))
            return web.json_response({"ok": True, "ignored": True})
        try:
            await self._channel.receive(update)
        except Exception:
            logger.exception("telegram.webhook.store_failed update_id=%s", update.update_id)
            return _error(503, "not stored; deliver again")
        return web.json_response({"ok": True})

    def _authentic(self, request: web.Request) -> bool:
        expected = self._channel.webhook_secret
        given = request.headers.get(SECRET_HEADER, "").encode()
        return expected is not None and hmac.compare_digest(given, expected)


async def _read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    body = bytearray()
    while chunk := await request.content.read(65536):
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


def add_telegram_routes(app: web.Application, channel: TelegramChannel) -> None:
    app.router.add_post(WEBHOOK_PATH, TelegramWebhook(channel).handle)
