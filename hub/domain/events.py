"""Typed events: the conversation event types bound to their state-machine edges
(``hub.domain.event_types``), the live facts that are not transitions (``hub.domain.facts``), and
their one wire format, JSON with a version field ``v`` (``hub.domain.fact_wire``). This module is
their index: import them from here.

Pure: no I/O. ``hub.bus`` encodes every fact it publishes with :func:`encode` and hands every
subscriber the value :meth:`FactDecoder.decode` returns.

Extension point (voice, surveys, work orders): a new live fact is a frozen dataclass subclassing
:class:`Fact` (call facts subclass :class:`CallFact`) in ``hub.domain.facts`` with its own ``KIND``,
added to ``KINDS`` in ``hub.domain.fact_wire`` and to the list below. Field types the codec
understands: ``str`` and its ``NewType`` ids, ``bool``, ``int``, ``float``, ``StrEnum``s,
``datetime``, ``frozenset[str]``, ``Mapping[str, Any]`` (JSON as is), and any of them ``| None``. A
process that does not know a kind (an older one during a rolling upgrade) logs it once and skips it,
so adding a kind never needs a lock-step deployment.
"""

from __future__ import annotations

from hub.domain.event_types import (
    EDGES,
    Edge,
    EventType,
    S,
    check_event,
)
from hub.domain.fact_wire import (
    KINDS,
    WIRE_VERSION,
    Convert,
    FactDecoder,
    encode,
)
from hub.domain.facts import (
    AgentSessionsRevoked,
    BusResubscribed,
    CallAnswered,
    CallCommand,
    CallEnded,
    CallFact,
    CallHeld,
    CallRinging,
    ContactChanged,
    ConversationChanged,
    Fact,
    MessagesDelivered,
    MessageStored,
    OfferMade,
    OfferWithdrawn,
    OutageNoticeStarted,
    PresenceChanged,
    RoutingKicked,
    StatusChanged,
    SurveyAsked,
    SurveyCallDue,
    TypingChanged,
    VoiceTurnTimed,
    WorkOrderChanged,
)

__all__ = [
    "EDGES",
    "KINDS",
    "WIRE_VERSION",
    "AgentSessionsRevoked",
    "BusResubscribed",
    "CallAnswered",
    "CallCommand",
    "CallEnded",
    "CallFact",
    "CallHeld",
    "CallRinging",
    "ContactChanged",
    "ConversationChanged",
    "Convert",
    "Edge",
    "EventType",
    "Fact",
    "FactDecoder",
    "MessageStored",
    "MessagesDelivered",
    "OfferMade",
    "OfferWithdrawn",
    "OutageNoticeStarted",
    "PresenceChanged",
    "RoutingKicked",
    "S",
    "StatusChanged",
    "SurveyAsked",
    "SurveyCallDue",
    "TypingChanged",
    "VoiceTurnTimed",
    "WorkOrderChanged",
    "check_event",
    "encode",
]
