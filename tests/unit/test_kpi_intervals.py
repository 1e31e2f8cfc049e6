"""Interval facts (hub/kpi_intervals.py): what each event counts where, and that any batching,
any order and any repetition of the events give the full replay."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.stream import StoredEvent
from hub.kpi_intervals import Bucket, Counts, add, batch_contributions, interval_of, replay

T0 = datetime(2026, 3, 29, 0, 50, tzinfo=UTC)  # a DST day in Europe: UTC intervals do not care


class Script:
    """One conversation's events, numbered and versioned as the store would."""

    seq = 0

    def __init__(self, cid: str, channel: str = "webchat") -> None:
        self.cid, self.channel, self.events, self.state = cid, channel, list[StoredEvent](), None
        self.queue: str | None = None
        self.agent: str | None = None

    def add(self, kind: str, to: str, after_s: float, *, queue: str | None = None, agent: str | None = "keep",
            detail: dict[str, str] | None = None) -> Script:
        Script.seq += 1
        self.queue = queue or self.queue
        self.agent = self.agent if agent == "keep" else agent
        self.events.append(StoredEvent(
            seq=Script.seq, id=f"{self.cid}:{len(self.events)}", conversation_id=self.cid,
            version=len(self.events), type=kind, from_state=self.state, to_state=to,
            at=T0 + timedelta(seconds=after_s), channel=self.channel, queue=self.queue, agent_id=self.agent,
            detail=detail or {}))
        self.state = to
        return self


def answered_then_resolved() -> Script:
    return (Script("c1").add("created", "new", 0).add("queued", "queued", 1, queue="general")
            .add("offered", "offered", 3, agent="alice").add("declined", "queued", 5, agent=None,
                                                              detail={"agent_id": "alice"})
            .add("offered", "offered", 6, agent="bob").add("assigned", "assigned", 13)
            .add("wrapped_up", "wrap_up", 73).add("resolved", "resolved", 93))


def test_an_answered_conversation_counts_offer_answer_wait_handle_and_after_work() -> None:
    q = Bucket(interval_of(T0), "general", "webchat")
    projection = replay(answered_then_resolved().events)
    assert projection[q] == {
        "offered": 1, "answered": 1, "answered_wait_ms": 12_000, "max_wait_ms": 12_000,
        **{f"answered_le_{s}s": 1 for s in (15, 20, 30, 45, 60, 90, 120, 180, 300)},
        "resolved": 1, "handle_ms": 80_000, "after_work_ms": 20_000,
    }
    assert projection[Bucket(q.interval, "", "webchat")] == {"created": 1}  # before it has a queue
    bob, alice = Bucket(q.interval, "general", "webchat", "bob"), Bucket(q.interval, "general", "webchat", "alice")
    assert projection[alice] == {"offers": 1, "declined": 1}
    assert projection[bob]["offers"] == 1 and projection[bob]["answered"] == 1
    assert projection[bob]["wrapped_up"] == 1 and projection[bob]["handle_ms"] == 80_000


def test_transfers_abandons_and_the_bot() -> None:
    transferred = (Script("c2").add("created", "new", 0).add("queued", "queued", 0, queue="general")
                   .add("offered", "offered", 1, agent="alice").add("assigned", "assigned", 2)
                   .add("transferred", "queued", 30, queue="billing", agent=None))
    abandoned = (Script("c3", "sms").add("created", "new", 0).add("bot_started", "bot", 0)
                 .add("handed_over", "queued", 4, queue="billing").add("resolved", "resolved", 50))
    contained = Script("c4").add("created", "new", 0).add("bot_started", "bot", 0).add("resolved", "resolved", 9)
    projection = replay(transferred.events + abandoned.events + contained.events)
    at = interval_of(T0)
    assert projection[Bucket(at, "billing", "webchat")] == {"offered": 1, "transferred_in": 1}
    assert projection[Bucket(at, "general", "webchat")]["transferred_out"] == 1
    assert projection[Bucket(at, "general", "webchat", "alice")]["transferred_out"] == 1
    billing_sms = projection[Bucket(at, "billing", "sms")]
    assert billing_sms["offered"] == billing_sms["handed_over"] == billing_sms["abandoned"] == 1
    assert billing_sms["abandoned_wait_ms"] == 46_000 and "abandoned_le_30s" not in billing_sms
    assert projection[Bucket(at, "", "webchat")] == {"created": 2, "with_bot": 1, "resolved_by_bot": 1}


def test_a_reopen_counts_with_the_resolution_it_undid_not_when_it_happened() -> None:
    """Resolved by bob in the first quarter hour, reopened an hour later (and by then a new offer to
    the queue), resolved again by alice: the first resolution's buckets count the reopen."""
    s = answered_then_resolved().add("reopened", "queued", 3600, agent=None, detail={"from_state": "resolved"})
    s.add("offered", "offered", 3610, agent="alice").add("assigned", "assigned", 3620)
    s.add("resolved", "resolved", 3700)
    # A chat closed while still queued was abandoned, not handled: its reopen counts no reopen.
    left = (Script("c5").add("created", "new", 0).add("queued", "queued", 1, queue="general")
            .add("resolved", "resolved", 30).add("reopened", "queued", 60, detail={"from_state": "resolved"}))
    projection = replay(s.events + left.events)
    first, later = interval_of(T0), interval_of(T0 + timedelta(seconds=3600))
    queue = projection[Bucket(first, "general", "webchat")]
    assert (queue["resolved"], queue["abandoned"], queue["reopened"]) == (1, 1, 1)  # c5's reopen: none
    assert projection[Bucket(first, "general", "webchat", "bob")]["reopened"] == 1
    assert "reopened" not in projection[Bucket(later, "general", "webchat")]
    assert projection[Bucket(later, "general", "webchat")]["offered"] == 1  # the reopen is an offer when it happens
    assert "reopened" not in projection[Bucket(later, "general", "webchat", "alice")]


def test_calls_abandoned_while_waiting_or_ringing_and_outbound_calls() -> None:
    short = (Script("v1", "voice").add("created", "new", 0).add("queued", "queued", 10, queue="outages")
             .add("abandoned", "abandoned", 13, detail={"short": "yes", "wait_s": "3.000"}))
    ringing = (Script("v2", "voice").add("created", "new", 0).add("queued", "queued", 10, queue="outages")
               .add("offered", "offered", 40, agent="bob").add("abandoned", "abandoned", 55,
                                                             detail={"short": "no"}))
    talked = (Script("v3", "voice").add("created", "new", 0).add("queued", "queued", 0, queue="outages")
              .add("offered", "offered", 5, agent="bob").add("assigned", "assigned", 8)
              .add("call_ended", "wrap_up", 68).add("wrap_up_coded", "wrap_up", 80, detail={"code": "bill"})
              .add("resolved", "resolved", 98))  # the code chosen in wrap-up changes no figure
    outbound = (Script("v4", "voice").add("created", "new", 0).add("called_out", "assigned", 0, agent="alice")
                .add("call_ended", "wrap_up", 30).add("resolved", "resolved", 40))
    projection = replay(short.events + ringing.events + talked.events + outbound.events)
    at = interval_of(T0)
    outages = projection[Bucket(at, "outages", "voice")]
    assert outages["offered"] == 3 and outages["abandoned"] == 2 and outages["abandoned_short"] == 1
    assert outages["abandoned_wait_ms"] == 3_000 + 45_000 and outages["max_wait_ms"] == 45_000
    assert outages["answered"] == 1 and outages["answered_wait_ms"] == 8_000
    assert outages["resolved"] == 1 and outages["handle_ms"] == 90_000 and outages["after_work_ms"] == 30_000
    assert projection[Bucket(at, "outages", "voice", "bob")]["wrapped_up"] == 1
    alice = projection[Bucket(at, "", "voice", "alice")]
    assert alice["outbound"] == 1 and "answered" not in alice and alice["handle_ms"] == 40_000
    assert "answered" not in projection[Bucket(at, "", "voice")]


def test_quarter_hours_in_utc_and_unknown_types() -> None:
    assert interval_of(datetime(2026, 3, 29, 2, 14, 59, 999_999, tzinfo=UTC)).minute == 0
    assert interval_of(datetime(2026, 3, 29, 2, 15, tzinfo=UTC)).minute == 15
    local = datetime(2026, 3, 29, 3, 20, tzinfo=UTC).astimezone(datetime.now(UTC).astimezone().tzinfo)
    assert interval_of(local) == datetime(2026, 3, 29, 3, 15, tzinfo=UTC)
    script = Script("c5").add("created", "new", 0).add("call_parked", "queued", 1)  # from a newer hub
    assert replay(script.events) == {Bucket(interval_of(T0), "", "webchat"): {"created": 1, "offered": 1}}
    crossing = Script("c6").add("created", "new", 0).add("queued", "queued", 0, queue="general")
    crossing.add("offered", "offered", 599, agent="bob").add("assigned", "assigned", 601)
    later = Bucket(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "general", "webchat")
    assert replay(crossing.events)[later]["answered_wait_ms"] == 601_000


def scripts() -> list[StoredEvent]:
    events = answered_then_resolved().events
    for i in range(4):
        s = Script(f"d{i}").add("created", "new", i).add("queued", "queued", i + 1, queue=("general", "billing")[i % 2])
        s.add("offered", "offered", i * 200 + 2, agent="alice").add("assigned", "assigned", i * 300 + 5)
        s.add("resolved", "resolved", i * 400 + 9)
        if i % 2:  # reopened: counted back in the resolution's bucket, whatever the batch order
            s.add("reopened", "queued", i * 400 + 950, agent=None).add("offered", "offered", i * 400 + 960,
                                                                       agent="bob")
        events += s.events
    return events


def apply_idempotently(store: dict[Bucket, tuple[set[str], Counts]], batch: list[StoredEvent],
                       everything: list[StoredEvent]) -> None:
    """hub/storage/kpi_intervals.py's rule in memory: a bucket counts each event id once."""
    histories: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in everything:
        histories[event.conversation_id].append(event)
    for bucket, by_event in batch_contributions(batch, histories).items():
        applied, counts = store.setdefault(bucket, (set(), {}))
        for event_id, delta in by_event.items():
            if event_id not in applied:
                applied.add(event_id)
                add(counts, delta)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_batches_in_any_order_applied_at_least_once_equal_the_replay(data: st.DataObject) -> None:
    events = scripts()
    order = data.draw(st.permutations(events))
    store: dict[Bucket, tuple[set[str], Counts]] = {}
    position = 0
    while position < len(order):
        size = data.draw(st.integers(1, 7))
        batch = order[position:position + size]
        apply_idempotently(store, batch, events)
        if data.draw(st.booleans()):  # a crash before the checkpoint moved: the batch comes again
            apply_idempotently(store, batch, events)
        position += size
    assert {bucket: counts for bucket, (_, counts) in store.items()} == replay(events)
