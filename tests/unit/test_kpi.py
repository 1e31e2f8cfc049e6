"""hub/kpi.py: bot KPIs from the event table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.kpi import bot_kpis

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ev(cid: str, kind: str, seconds: float, version: int, **detail: str) -> dict:
    return {"conversation_id": cid, "type": kind, "at": T0 + timedelta(seconds=seconds), "version": version,
            "detail": detail}


def test_containment_handover_reasons_and_wait() -> None:
    events = [
        ev("a", "created", 0, 0), ev("a", "bot_started", 0, 1),                       # contained
        ev("b", "created", 1, 0), ev("b", "bot_started", 1, 1),
        ev("b", "handed_over", 5, 2, reason="asked", intent="talk_to_human"),
        ev("b", "offered", 6, 3), ev("b", "assigned", 15, 4),                        # waited 10 s
        ev("c", "created", 2, 0), ev("c", "bot_started", 2, 1),
        ev("c", "handed_over", 3, 2, reason="bot_unavailable", intent=""),          # still waiting
        ev("d", "created", 3, 0), ev("d", "queued", 3, 1),                           # no bot at all
        ev("e", "created", 4, 0), ev("e", "bot_started", 4, 1),
        ev("e", "handed_over", 6, 2, reason="asked", intent="talk_to_human"),
        ev("e", "offered", 7, 3), ev("e", "offer_timed_out", 27, 4), ev("e", "offered", 27, 5),
        ev("e", "assigned", 36, 6),                                                   # waited 30 s
    ]
    kpis = bot_kpis(events)
    assert (kpis.conversations, kpis.with_bot, kpis.handed_over) == (5, 4, 3)
    assert kpis.containment_rate == 0.25 and kpis.handover_rate == 0.75
    assert kpis.handovers_by_reason == {"asked": 2, "bot_unavailable": 1}
    assert kpis.handovers_by_intent == {"talk_to_human": 2, "(none)": 1}
    assert kpis.wait_after_handover_s["p50"] == 20.0 and kpis.wait_after_handover_s["max"] == 30.0
    assert kpis.waiting_now == 1


def test_no_bot_conversations_gives_no_rates() -> None:
    kpis = bot_kpis([ev("d", "created", 0, 0), ev("d", "queued", 0, 1)])
    assert kpis.containment_rate is None and kpis.handover_rate is None and kpis.wait_after_handover_s == {}
