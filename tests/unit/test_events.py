"""hub/domain/events.py: event types bound to their edges (every type over every edge), and the
wire codec of live facts (round trips; unknown kinds, newer versions and garbage are skipped, logged
once per kind, never raised)."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime

import pytest

from hub.domain.events import (
    KINDS,
    AgentSessionsRevoked,
    CallAnswered,
    CallCommand,
    CallEnded,
    CallHeld,
    CallRinging,
    ContactChanged,
    ConversationChanged,
    EventType,
    Fact,
    FactDecoder,
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
    check_event,
    encode,
)
from hub.domain.ids import AgentId, AgentStatus, Author, ConversationId, DeliveryStatus, MessageId
from hub.domain.states import ConversationState
from hub.errors import IllegalTransition

S = ConversationState

# Written out from docs/architecture.md's table, not read from EDGES: the test must be able to fail.
ALLOWED: frozenset[tuple[str, str | None, str]] = frozenset({
    ("created", None, "new"),
    ("bot_started", "new", "bot"),
    ("queued", "new", "queued"),
    ("handed_over", "bot", "queued"),
    ("transferred", "bot", "queued"),
    ("transferred", "assigned", "queued"),
    ("offered", "queued", "offered"),
    ("assigned", "offered", "assigned"),
    ("declined", "offered", "queued"),
    ("offer_timed_out", "offered", "queued"),
    ("offer_lost", "offered", "queued"),
    ("wrapped_up", "assigned", "wrap_up"),
    ("resolved", "bot", "resolved"),
    ("resolved", "queued", "resolved"),
    ("resolved", "assigned", "resolved"),
    ("resolved", "wrap_up", "resolved"),
    ("abandoned", "queued", "abandoned"),
    ("abandoned", "offered", "abandoned"),
    ("call_ended", "assigned", "wrap_up"),
    ("wrap_up_coded", "wrap_up", "wrap_up"),
    ("called_out", "new", "assigned"),
    ("closed", "resolved", "closed"),
    ("survey_answered", "resolved", "closed"),
    ("reopened", "resolved", "queued"),
    ("snoozed", "assigned", "assigned"),
    ("woken", "assigned", "assigned"),
})

EDGE_PAIRS = [(None, S.NEW), *itertools.product(ConversationState, repeat=2)]
ALL = [(t, a, b) for t in EventType for a, b in EDGE_PAIRS]


def _id(case: tuple[EventType, ConversationState | None, ConversationState]) -> str:
    t, a, b = case
    return f"{t.value}:{a.value if a else 'none'}->{b.value}"


def test_the_event_vocabulary_is_the_documented_one() -> None:
    assert {t.value for t in EventType} == {t for t, _, _ in ALLOWED}


@pytest.mark.parametrize("case", ALL, ids=_id)
def test_every_type_over_every_edge(case: tuple[EventType, ConversationState | None, ConversationState]) -> None:
    event_type, current, target = case
    key = (event_type.value, current.value if current else None, target.value)
    if key in ALLOWED:
        assert check_event(event_type, current, target) is event_type
        assert check_event(event_type.value, current, target) is event_type  # its string works alike
    else:
        with pytest.raises(IllegalTransition) as caught:
            check_event(event_type, current, target)
        assert caught.value.code == "illegal_transition"


def test_an_unknown_type_is_refused_as_an_illegal_transition() -> None:
    with pytest.raises(IllegalTransition, match="unknown event type"):
        check_event("teleported", S.QUEUED, S.OFFERED)


def test_the_refusal_names_the_edges_the_type_labels() -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_event(EventType.ASSIGNED, S.OFFERED, S.QUEUED)
    assert str(caught.value) == "event assigned cannot label offered->queued; it labels offered->assigned"


# -- the wire ----------------------------------------------------------------------------------------

AT = datetime(2026, 3, 1, 9, 30, 15, 123000, tzinfo=UTC)
SUMMARY = {"id": "c_1", "state": "offered", "agent_id": "a_1", "contact": {"id": "k_1", "display_name": "Ann"},
           "skills": ["general"], "handover": None}
EXAMPLES: list[Fact] = [
    MessageStored(conversation_id=ConversationId("c_1"), holder=AgentId("a_1"),
                  message={"id": "m_1", "author": "customer", "text": "电费 <b>", "private": False}),
    MessageStored(conversation_id=ConversationId("c_1"), holder=None, message={"id": "m_2", "author": "bot"}),
    StatusChanged(conversation_id=ConversationId("c_1"), message_id=MessageId("m_1"), status=DeliveryStatus.READ,
                  author=Author.AGENT),
    TypingChanged(conversation_id=ConversationId("c_1"), who=Author.CUSTOMER, active=False),
    PresenceChanged(agent_id=AgentId("a_1"), status=AgentStatus.AWAY),
    ConversationChanged(event=EventType.OFFERED, version=3, summary=SUMMARY, previous_agent=None),
    OfferMade(conversation_id=ConversationId("c_1"), agent_id=AgentId("a_1"), expires_at=AT),
    OfferWithdrawn(conversation_id=ConversationId("c_1"), agent_id=AgentId("a_1")),
    RoutingKicked(),
    AgentSessionsRevoked(agent_id=AgentId("a_1")),
    CallRinging(call_id="1733.7", conversation_id=ConversationId("c_1"), agent_id=AgentId("a_1")),
    CallAnswered(call_id="1733.7", conversation_id=ConversationId("c_1"), agent_id=AgentId("a_1")),
    CallHeld(call_id="1733.7", conversation_id=ConversationId("c_1"), agent_id=None, held=True),
    CallEnded(call_id="1733.7", conversation_id=None, agent_id=AgentId("a_1"), by="caller", talk_s=12.5),
    CallCommand(call_id="1733.7", conversation_id=ConversationId("c_1"), action="transfer", agent_id=AgentId("a_1"),
                target="queue:billing"),
    VoiceTurnTimed(call_id="1733.7", conversation_id=ConversationId("c_1"), turn=2, source="speech", detection_ms=500.0,
                   recognition_ms=61.5, bot_ms=180.2, synthesis_ms=40.0, total_ms=790.3),
    WorkOrderChanged(order_id="wo_1", number="WO000001", action="dispatch", state="dispatched", version=2,
                     department="repair_north", conversation_id=ConversationId("c_1")),
    SurveyCallDue(order_id="wo_1", version=3),
    ContactChanged(contact_id="k_1", change="renamed"),
    ContactChanged(contact_id="k_1", change="merged", merged_from="k_2"),
    SurveyAsked(conversation_id=ConversationId("c_1"), key_digest="0f3a9c2e71b4d5a6", expires_at=AT),
    OutageNoticeStarted(notice_id="o_1:outage"),
    MessagesDelivered(conversation_ids=("c_1", "c_1", "c_2"), message_ids=("m_1", "m_2", "m_3")),
]


def test_every_registered_kind_has_an_example() -> None:
    assert {type(f) for f in EXAMPLES} == set(KINDS.values())


@pytest.mark.parametrize("fact", EXAMPLES, ids=lambda f: type(f).__name__)
def test_round_trip(fact: Fact) -> None:
    """Decoded equals published: a process's own facts go to its subscribers as published, other
    processes' as decoded (ADR 0074), and both must be the same fact."""
    wire = encode(fact)
    assert wire.startswith('{"v":1,"kind":')
    decoded = FactDecoder().decode(wire.encode())
    assert decoded == fact and type(decoded) is type(fact)
    marked = encode(fact, "0a1b2c3d4e5f")  # the publishing bus's origin, first
    assert marked.startswith('{"o":"0a1b2c3d4e5f","v":1,"kind":')
    assert FactDecoder().decode(marked) == fact


def test_a_receipt_batch_is_one_fact_read_as_a_status_per_message() -> None:
    decoded = FactDecoder().decode(encode(EXAMPLES[-1]))
    assert isinstance(decoded, MessagesDelivered)
    assert [(s.conversation_id, s.message_id, s.status, s.author) for s in decoded.statuses()] == [
        ("c_1", "m_1", DeliveryStatus.DELIVERED, Author.CUSTOMER), ("c_1", "m_2", DeliveryStatus.DELIVERED,
                                                                   Author.CUSTOMER),
        ("c_2", "m_3", DeliveryStatus.DELIVERED, Author.CUSTOMER)]
    assert FactDecoder().decode(b'{"v":1,"kind":"delivered","conversation_ids":["c_1"],"message_ids":[7]}') is None


def test_decoded_values_are_typed() -> None:
    decoded = FactDecoder().decode(encode(EXAMPLES[2]))
    assert isinstance(decoded, StatusChanged)
    assert decoded.status is DeliveryStatus.READ and decoded.author is Author.AGENT
    offer = FactDecoder().decode(encode(EXAMPLES[6]))
    assert isinstance(offer, OfferMade) and offer.expires_at == AT
    changed = FactDecoder().decode(encode(EXAMPLES[5]))
    assert isinstance(changed, ConversationChanged)
    assert changed.event is EventType.OFFERED and changed.state is S.OFFERED and changed.agent_id == "a_1"


def test_fields_a_newer_process_added_are_ignored() -> None:
    decoded = FactDecoder().decode('{"v":1,"kind":"kick","priority":"high"}')
    assert decoded == RoutingKicked()


@pytest.mark.parametrize("wire", [
    '{"v":1,"kind":"call_answered","call_id":"x"}',   # a kind from a newer process
    '{"v":2,"kind":"kick"}',                          # a newer version of a known kind
    '{"t":"message","conversation_id":"c"}',          # an old process's untyped event
    '{"v":1,"kind":"status","conversation_id":"c"}',  # fields missing
    '{"v":1,"kind":"typing","conversation_id":"c","who":"robot","active":true}',  # not an Author
    '{"v":1,"kind":"typing","conversation_id":"c","who":"agent","active":"yes"}',  # not a bool
    '{"v":"1","kind":"kick"}', "[]", "{", b"\xff\xfe", "",
])
def test_what_cannot_be_decoded_is_skipped_never_raised(wire: str | bytes) -> None:
    decoder = FactDecoder()
    assert decoder.decode(wire) is None
    assert decoder.skipped == 1


def test_an_unknown_kind_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    decoder = FactDecoder()
    with caplog.at_level(logging.WARNING, logger="hub.domain.events"):
        for _ in range(5):
            assert decoder.decode('{"v":1,"kind":"call_answered","call_id":"x"}') is None
        assert decoder.decode('{"v":1,"kind":"survey_answered"}') is None
        assert decoder.decode('{"v":9,"kind":"kick"}') is None
        assert decoder.decode('{"v":9,"kind":"kick"}') is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3, lines
    assert decoder.skipped == 8
    assert any("call_answered" in line for line in lines) and any("kick@v9" in line for line in lines)


def test_repr_carries_no_message_text_or_contact_name() -> None:
    assert "电费" not in repr(EXAMPLES[0])
    assert "Ann" not in repr(EXAMPLES[5])
