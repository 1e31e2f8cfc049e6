"""The missed-offers rule (hub.domain.missed_offers): timeouts in a row, ended by an answer."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.domain.missed_offers import MissedOffers, step
from hub.domain.stream import StoredEvent

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def event(seq: int, kind: str, agent: str) -> StoredEvent:
    detail = {"agent_id": agent} if kind in ("offer_timed_out", "declined") else {}
    return StoredEvent(seq=seq, id=f"c{seq}:1", conversation_id=f"c{seq}", version=1, type=kind, from_state="offered",
                       to_state="queued" if kind != "assigned" else "assigned", at=AT, channel="sms",
                       agent_id=agent if kind == "assigned" else None, actor=agent, detail=detail)


def run(events: list[StoredEvent], limit: int = 3) -> list[tuple[str, ...]]:
    state, away = MissedOffers(), []
    for e in events:
        state = step(state, e, limit=limit)
        away.append(state.away)
    return away


def test_three_timeouts_in_a_row_set_her_away_once() -> None:
    away = run([event(1, "offer_timed_out", "a"), event(2, "offer_timed_out", "a"), event(3, "offer_timed_out", "a"),
                event(4, "offer_timed_out", "a")])
    assert away == [(), (), ("a",), ()]


def test_an_accepted_or_declined_offer_ends_the_streak_and_agents_count_apart() -> None:
    away = run([event(1, "offer_timed_out", "a"), event(2, "offer_timed_out", "a"), event(3, "assigned", "a"),
                event(4, "offer_timed_out", "a"), event(5, "offer_timed_out", "b"), event(6, "offer_timed_out", "a"),
                event(7, "declined", "a"), event(8, "offer_timed_out", "a"), event(9, "offer_timed_out", "b")],
               limit=2)
    assert away == [(), ("a",), (), (), (), ("a",), (), (), ("b",)]


def test_an_event_read_again_and_a_zero_limit_change_nothing() -> None:
    first = event(1, "offer_timed_out", "a")
    assert run([first, first, first], limit=2) == [(), (), ()]
    assert run([event(i, "offer_timed_out", "a") for i in range(1, 5)], limit=0) == [()] * 4
    assert step(MissedOffers(), event(1, "resolved", "a"), limit=1).away == ()
