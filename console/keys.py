"""Typed application keys: how handlers reach the hub's runtime objects."""

from __future__ import annotations

from aiohttp import web

from console.live import ConsoleLive
from hub.context import HubContext
from hub.quality import QualityDesk

HUB = web.AppKey("hub", HubContext)
LIVE = web.AppKey("live", ConsoleLive)
QUALITY = web.AppKey("quality", QualityDesk)  # call quality (console/qa_api.py)
