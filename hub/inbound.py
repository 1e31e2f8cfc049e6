"""The inbound port as channels get it: storage outages reported as ``ServiceUnavailable``.

A channel must tell "the hub cannot store this now" (retry: keep the IMAP UID, answer 503, keep
the poll offset) from "this message is broken" (quarantine, 4xx). Without this wrapper it would
have to know the database driver's exception types; with it, it only knows ``hub.errors``.
"""

from __future__ import annotations

from hub.domain.model import InboundMessage
from hub.errors import ServiceUnavailable
from hub.ports import Accepted, Inbox


class GuardedInbox:
    """``hub.ports.Inbox`` over another inbox (the customer inbox, ``hub.conversations.customers``); ``outages`` are the
    exception classes that mean the storage is down (``hub.storage.errors.STORAGE_ERRORS``)."""

    def __init__(self, inbox: Inbox, outages: tuple[type[Exception], ...]) -> None:
        self._inbox = inbox
        self._outages = outages

    async def accept_inbound(self, inbound: InboundMessage) -> Accepted:
        try:
            return await self._inbox.accept_inbound(inbound)
        except self._outages as err:
            raise ServiceUnavailable("the hub cannot store messages now") from err
