"""Remembered histories (hub/kpi_context.py): a batch's contributions are those computed from the whole
table whatever the batching, the order, the repetitions and what was forgotten; in stream order
nothing needs reading once the consumer runs."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.stream import StoredEvent
from hub.kpi_context import KnownHistories
from hub.kpi_intervals import batch_contributions
from tests.unit.test_kpi_intervals import scripts


def table_histories(events: list[StoredEvent], ids: set[str]) -> dict[str, list[StoredEvent]]:
    out: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in events:
        if event.conversation_id in ids:
            out[event.conversation_id].append(event)
    return dict(out)


def contributions_with(known: KnownHistories, batch: list[StoredEvent], table: list[StoredEvent],
                       reads: list[set[str]]) -> object:
    missing = known.missing(batch)
    if missing:
        reads.append(missing)
    known.learn(batch, table_histories(table, missing))
    return batch_contributions(batch, known.histories(e.conversation_id for e in batch))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_remembered_histories_give_the_contributions_of_the_whole_table(data: st.DataObject) -> None:
    events = scripts()
    order = data.draw(st.permutations(events))
    known = KnownHistories(capacity=data.draw(st.integers(0, 6)))
    reads: list[set[str]] = []
    position = 0
    while position < len(order):
        size = data.draw(st.integers(1, 7))
        batch = order[position:position + size]
        everything = table_histories(events, {e.conversation_id for e in batch})
        assert contributions_with(known, batch, events, reads) == batch_contributions(batch, everything)
        if data.draw(st.booleans()):  # the same batch again (a crash before the checkpoint moved)
            assert contributions_with(known, batch, events, reads) == batch_contributions(batch, everything)
        if data.draw(st.booleans()):  # a restart: nothing remembered
            known = KnownHistories(capacity=known.capacity)
        position += size


def test_in_stream_order_nothing_is_read_and_a_restart_reads_only_what_it_needs() -> None:
    events = sorted(scripts(), key=lambda e: e.seq)
    known, reads = KnownHistories(), list[set[str]]()
    for start in range(0, len(events), 4):
        contributions_with(known, events[start:start + 4], events, reads)
    assert reads == []
    assert len(known) == len({e.conversation_id for e in events})

    restarted = KnownHistories()
    later = [e for e in events if e.version >= 3]  # every conversation's events from version 3 on
    contributions_with(restarted, later, events, reads)
    assert reads == [{e.conversation_id for e in later}]
    contributions_with(restarted, later, events, reads)  # again: now known
    assert len(reads) == 1


def test_past_its_capacity_the_least_recently_seen_conversation_is_forgotten() -> None:
    events = sorted(scripts(), key=lambda e: e.seq)
    by_conversation = table_histories(events, {e.conversation_id for e in events})
    first, second, third = sorted(by_conversation)[:3]
    known = KnownHistories(capacity=2)
    for cid in (first, second, third):
        known.learn([], {cid: by_conversation[cid]})
    known.learn([], {})
    assert set(known.histories([first, second, third])) == {second, third}
    assert known.missing([by_conversation[first][-1]]) == {first}
    assert known.missing([by_conversation[third][-1]]) == set()
