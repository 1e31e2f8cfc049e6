"""Outages: what supervisors record, the contacts' areas, the notices they start and the bot's
answer to "is there an outage at my address" (docs/architecture.md, "Outage notices"; ADR 0036).
The SMS themselves go out through ``hub.outage_notices.NoticeSender``."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from hub.clock import Clock
from hub.domain.events import OutageNoticeStarted
from hub.domain.ids import new_id
from hub.domain.model import Conversation
from hub.domain.outages import (
    NoticeKind,
    area_key,
    check_notice_text,
    check_outage,
    clean_area,
    mentioned,
    notice_text,
    outage_answer,
)
from hub.errors import IllegalTransition, InvalidInput, NotFound, ServiceUnavailable
from hub.ports import EventBus
from hub.storage.outages import MongoOutageStore, outage_from_doc

logger = logging.getLogger(__name__)


class OutageDesk:
    def __init__(self, *, store: MongoOutageStore, bus: EventBus, clock: Clock, time_zone: str, intent: str,
                 sms_enabled: bool) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._zone: tzinfo = ZoneInfo(time_zone)
        self._intent = intent
        self._sms_enabled = sms_enabled

    async def record(self, *, area: str, cause: str, start: datetime, expected_restoration: datetime,
                     by: str) -> dict[str, Any]:
        cleaned_area, cleaned_cause = check_outage(area=area, cause=cause, start=start,
                                                   expected_restoration=expected_restoration)
        doc = {"_id": new_id("out"), "area": cleaned_area, "area_key": area_key(cleaned_area), "cause": cleaned_cause,
               "start": start, "expected_restoration": expected_restoration, "restored_at": None,
               "created_at": self._clock.now(), "created_by": by}
        await self._store.add(doc)
        logger.info("outages.recorded id=%s by=%s", doc["_id"], by)
        return doc

    async def listing(self, *, active_only: bool) -> list[dict[str, Any]]:
        return await self._store.listing(active_only=active_only)

    async def outage(self, outage_id: str) -> dict[str, Any]:
        doc = await self._store.get(outage_id)
        if doc is None:
            raise NotFound("no such outage")
        return doc

    async def restore(self, outage_id: str, at: datetime | None) -> dict[str, Any]:
        doc = await self.outage(outage_id)
        when = at or self._clock.now()
        if when.tzinfo is None:
            raise InvalidInput("restored_at needs a UTC offset")
        if when < doc["start"]:
            raise InvalidInput("restored_at is before the outage started")
        if not await self._store.restore(outage_id, when):
            raise IllegalTransition("this outage is restored already")
        logger.info("outages.restored id=%s", outage_id)
        return await self.outage(outage_id)

    async def start_notice(self, outage_id: str, kind: NoticeKind, text: str | None, *, by: str) -> dict[str, Any]:
        """Queue the SMS notice of ``kind`` to every contact of the outage's area (once per outage
        and kind: 409 the second time). The restoration notice needs the outage restored."""
        if not self._sms_enabled:
            raise ServiceUnavailable("SMS is not configured (HUB_SMS__KANNEL_URL)")
        doc = await self.outage(outage_id)
        outage = outage_from_doc(doc)
        if kind is NoticeKind.RESTORED and outage.restored_at is None:
            raise IllegalTransition("record the restoration first (POST /api/outages/{id}/restore)")
        body = check_notice_text(text) if text is not None else notice_text(outage, kind, self._zone)
        notice = {"_id": f"{outage_id}:{kind.value}", "key": new_id("n")[2:], "outage_id": outage_id,
                  "kind": kind.value, "area": outage.area,
                  "text": body, "state": "preparing", "created_at": self._clock.now(), "created_by": by}
        await self._store.add_notice(notice)
        logger.info("outages.notice.started id=%s by=%s", notice["_id"], by)
        try:  # the sender's lease holder starts now; without the fact, at its next look (poll_s)
            await self._bus.publish(OutageNoticeStarted(notice_id=str(notice["_id"])))
        except Exception as err:
            logger.warning("outages.notice.untold id=%s error=%s", notice["_id"], type(err).__name__)
        return notice

    async def cancel_notice(self, outage_id: str, kind: NoticeKind, *, by: str) -> dict[str, Any]:
        """Stop a notice still preparing or sending: no SMS goes out after the batch Kannel has (409
        when it is done or cancelled already)."""
        notice_id = f"{outage_id}:{kind.value}"
        if await self._store.notice(notice_id) is None:
            raise NotFound("no such notice")
        if not await self._store.cancel_notice(notice_id, self._clock.now(), by):
            raise IllegalTransition("this notice is not being sent any more (done or cancelled)")
        logger.info("outages.notice.cancel id=%s by=%s", notice_id, by)
        return await self.notice(outage_id, kind)

    async def notices_of(self, outage_ids: list[str]) -> list[dict[str, Any]]:
        """The outages' notices with their progress (``submitted``: handed to Kannel), no texts."""
        return [{**n, "counts": {"submitted": n.get("cursor", 0)}} for n in await self._store.notices_of(outage_ids)]

    async def notice(self, outage_id: str, kind: NoticeKind) -> dict[str, Any]:
        notice = await self._store.notice(f"{outage_id}:{kind.value}")
        if notice is None:
            raise NotFound("no such notice")
        counts = await self._store.counts(notice["_id"])
        return {**notice, "counts": {**counts, "submitted": notice.get("cursor", 0)}}

    async def set_area(self, contact_id: str, area: str | None) -> None:
        if not await self._store.set_area(contact_id, clean_area(area) if area is not None else None):
            raise NotFound("no such contact")

    async def answer(self, *, intent: str, conversation: Conversation, text: str, language: str) -> str | None:
        """The bot's answer to the outage intent (``bot.service.IntentAnswers``) from the outage table."""
        if intent != self._intent:
            return None
        now = self._clock.now()
        active = [o for o in await self._store.active() if o.active_at(now)]
        area = await self._store.area_of(conversation.contact_id)
        if area is not None:
            here = [o for o in active if area_key(o.area) == area_key(area)]
        else:
            here = mentioned(active, text)
        return outage_answer(here, area, language, self._zone)
