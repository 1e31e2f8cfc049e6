"""The web-chat channel's registry entry: the widget's WebSocket, replies pushed live from the bus."""

from __future__ import annotations

from aiohttp import web

from channels.webchat.files import WidgetFiles
from channels.webchat.routes import WebChatEndpoint, add_webchat_routes
from channels.webchat.sessions import WidgetSessions
from hub.config import Settings
from hub.domain.reply_limits import characters
from hub.ports import DeliveryReports
from hub.registry import Buttons, Capabilities, ChannelDeps, ChannelEntry


def channel(settings: Settings, deps: ChannelDeps) -> ChannelEntry:
    """Always on: the widget needs no provider."""
    widgets = WidgetSessions()
    endpoint = WebChatEndpoint(settings, inbox=deps.sessions, history=deps.history, clock=deps.clock,
                               sessions=widgets, limiter=deps.limiter, live=deps.live)

    def routes(app: web.Application, reports: DeliveryReports) -> None:
        add_webchat_routes(app, endpoint)
        if deps.customer_files is not None:
            files = WidgetFiles(secret=settings.secret_key.get_secret_value().encode(), files=deps.customer_files)
            app.router.add_get("/webchat/attachments/{id}", files.download)

    return ChannelEntry(name="webchat", routes=routes, listen=widgets.listen,
                        capabilities=Capabilities(buttons=Buttons.NATIVE, receipts=True, live=True,
                                                  max_text_chars=settings.webchat.max_text_chars,
                                                  reply_limit=characters(settings.webchat.max_text_chars), files=True))
