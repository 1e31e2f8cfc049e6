"""The Telegram channel's registry entry: sendMessage out, the webhook or long polling in."""

from __future__ import annotations

from aiohttp import web

from channels.telegram.adapter import TelegramChannel
from channels.telegram.policy import MAX_TEXT_UTF16
from channels.telegram.routes import add_telegram_routes
from hub.config import Settings
from hub.domain.reply_limits import utf16_units
from hub.ports import DeliveryReports
from hub.registry import Buttons, Capabilities, ChannelDeps, ChannelEntry


def channel(settings: Settings, deps: ChannelDeps) -> ChannelEntry | None:
    """On when ``HUB_TELEGRAM__TOKEN`` is set. The webhook route is there in both modes (in
    polling mode it refuses every request: there is no secret to match)."""
    if not settings.telegram.token:
        return None
    telegram = TelegramChannel(settings.telegram, inbox=deps.inbox, clock=deps.clock,
                               public_url=settings.http.public_url)

    def routes(app: web.Application, reports: DeliveryReports) -> None:
        add_telegram_routes(app, telegram)

    return ChannelEntry(name="telegram", sender=telegram, resources=telegram, routes=routes, loops=telegram.loops(),
                        capabilities=Capabilities(buttons=Buttons.NATIVE, max_text_chars=None, receipts=False,
                                                  live=False, reply_limit=utf16_units(MAX_TEXT_UTF16)))
