"""The SMS channel's registry entry: Kannel's sendsms out, its MO and DLR callbacks in."""

from __future__ import annotations

from aiohttp import web

from channels.sms import segments
from channels.sms.adapter import KannelSender
from channels.sms.routes import SmsEndpoint, add_sms_routes
from hub.config import Settings
from hub.domain.reply_limits import LengthUnit, ReplyLimit
from hub.errors import InvalidInput
from hub.ports import DeliveryReports
from hub.registry import Buttons, Capabilities, ChannelDeps, ChannelEntry


def channel(settings: Settings, deps: ChannelDeps) -> ChannelEntry | None:
    """On when ``HUB_SMS__KANNEL_URL`` is set; raises ``InvalidInput`` for a half configuration."""
    if not settings.sms.kannel_url:
        return None
    sender, secret = kannel_sender(settings), sms_secret(settings)

    def routes(app: web.Application, reports: DeliveryReports) -> None:
        add_sms_routes(app, SmsEndpoint(inbox=deps.inbox, reports=reports, clock=deps.clock, secret=secret,
                                        max_text_chars=settings.sms.max_text_chars,
                                        max_query_bytes=settings.sms.max_query_bytes))

    return ChannelEntry(name="sms", sender=sender, resources=sender, routes=routes,
                        capabilities=Capabilities(buttons=Buttons.NUMBERED, max_text_chars=settings.sms.max_text_chars,
                                                  receipts=True, live=False,
                                                  reply_limit=segment_limit(settings.sms.max_reply_segments)))


def segment_limit(max_segments: int) -> ReplyLimit:
    """At most ``max_segments`` parts, counted as the operator bills them (``segments.count``); the
    sender splits a reply over ``sms.max_segments`` into several concatenated SMS."""
    return ReplyLimit(unit=LengthUnit.SMS_SEGMENTS, maximum=max_segments,
                      measure=lambda text: segments.count(text).segments)


def sms_secret(settings: Settings) -> str:
    if settings.sms.secret is None:
        raise InvalidInput("HUB_SMS__SECRET is required when SMS is enabled (HUB_SMS__KANNEL_URL)")
    return settings.sms.secret.get_secret_value()


def kannel_sender(settings: Settings) -> KannelSender:
    """The SMS sender; delivery reports come back to <callback_url>/channels/sms/dlr."""
    sms, http = settings.sms, settings.http
    base = sms.callback_url or http.public_url or (f"http://{http.host}:{http.port}" if http.port else None)
    if base is None or sms.kannel_url is None:
        raise InvalidInput("set HUB_SMS__CALLBACK_URL (the hub's URL as Kannel reaches it) when HUB_HTTP__PORT is 0")
    return KannelSender(sendsms_url=sms.kannel_url, username=sms.username, password=sms.password.get_secret_value(),
                        sender=sms.sender, dlr_url=base.rstrip("/") + "/channels/sms/dlr", secret=sms_secret(settings),
                        max_segments=sms.max_segments, timeout_s=sms.timeout_s)
