"""What ``hub.contacts.ContactService`` answers: a contact's profile as one viewer may see it, a
page of its cross-channel timeline, a merge's result. Frozen values, no I/O."""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hub.domain.contact_details import ReadableIdentity
from hub.domain.ids import ContactId
from hub.domain.model import Message
from hub.domain.states import OPEN_STATES, ConversationState


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactProfile:
    id: ContactId
    display_name: str
    identities: dict[str, list[str]]  # channel -> addresses
    open_conversation: dict[str, Any] | None  # the conversation document, when really open
    conversations: list[dict[str, Any]]  # the conversations the viewer may see (documents), oldest first
    messages: int  # the messages of those the viewer may see (private notes where she may see them)
    merged_from: list[str]
    requested_id: str  # differs from ``id`` when an old (merged) reference was followed
    may_edit: bool  # the viewer may rename it and link identities (hub.domain.visibility)
    area: str | None = None  # where the customer lives: whom an outage notice reaches (hub.outages)
    readable: list[ReadableIdentity] = dataclasses.field(default_factory=list)  # hub.domain.contact_details
    attributes: dict[str, str] = dataclasses.field(default_factory=dict)  # account number, address, meter id

    @property
    def counts(self) -> dict[str, Any]:
        by_channel = Counter(str(c["channel"]) for c in self.conversations)
        open_now = sum(1 for c in self.conversations if ConversationState(c["state"]) in OPEN_STATES)
        return {"conversations": len(self.conversations), "open": open_now, "messages": self.messages,
                "by_channel": dict(sorted(by_channel.items()))}


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelinePage:
    contact_id: ContactId
    messages: list[Message]
    conversations: list[dict[str, Any]]
    older: str | None  # cursor for the page before this one; None at the beginning


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeResult:
    survivor: ContactId
    merged: ContactId
    already: bool  # the merge had been done before (an idempotent repeat)
    identities: list[str]
    conversations: int
