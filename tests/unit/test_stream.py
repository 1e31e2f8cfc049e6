"""The durable consumers' ordering rules (hub/domain/stream.py): tables, and a model of writers and a
consumer in every interleaving hypothesis finds, in which no stored event is ever left behind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.domain.stream import (
    CONFIRM_AFTER_S,
    GAP_TIMEOUT_S,
    HoleWatch,
    Step,
    event_from_doc,
    has_hole,
    must_confirm,
    plan,
)


def test_a_contiguous_run_is_taken_whole() -> None:
    assert plan(0, [1, 2, 3], sealed=0, voids=set(), watch=None, now=0) == Step(take=3, checkpoint=3)
    assert plan(7, [], sealed=0, voids=set(), watch=None, now=0) == Step(take=0, checkpoint=7)


def test_a_hole_stops_the_batch_and_is_watched_from_when_it_was_first_seen() -> None:
    first = plan(0, [1, 2, 4], sealed=0, voids=set(), watch=None, now=100.0)
    assert first == Step(take=2, checkpoint=2, watch=HoleWatch(3, 100.0))
    later = plan(2, [4], sealed=0, voids=set(), watch=first.watch, now=100.0 + GAP_TIMEOUT_S - 0.1)
    assert later == Step(take=0, checkpoint=2, watch=HoleWatch(3, 100.0))


def test_a_hole_open_for_the_timeout_is_sealed_then_passed() -> None:
    step = plan(2, [4, 5], sealed=0, voids=set(), watch=HoleWatch(3, 100.0), now=100.0 + GAP_TIMEOUT_S)
    assert step == Step(take=0, checkpoint=2, seal_to=3)
    assert plan(2, [4, 5], sealed=3, voids=set(), watch=None, now=0) == Step(take=2, checkpoint=5)


def test_void_numbers_are_passed_at_once() -> None:
    assert plan(0, [1, 4], sealed=0, voids={2, 3}, watch=None, now=0) == Step(take=2, checkpoint=4)
    assert plan(0, [1, 4], sealed=0, voids={2}, watch=None, now=5) == Step(take=1, checkpoint=1,
                                                                          watch=HoleWatch(3, 5))


def test_a_partly_sealed_hole_waits_for_the_rest_and_a_new_hole_restarts_the_watch() -> None:
    assert plan(0, [1, 6], sealed=3, voids=set(), watch=None, now=1).watch == HoleWatch(4, 1)
    assert plan(0, [1, 6], sealed=3, voids=set(), watch=HoleWatch(2, 0), now=1).watch == HoleWatch(4, 1)


def test_has_hole_and_must_confirm() -> None:
    assert not has_hole(3, [4, 5, 6]) and not has_hole(3, [])
    assert has_hole(3, [4, 6])
    assert not must_confirm(CONFIRM_AFTER_S - 0.01) and must_confirm(CONFIRM_AFTER_S)
    assert CONFIRM_AFTER_S * 2 <= GAP_TIMEOUT_S


def test_a_stored_event_from_its_document() -> None:
    at = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    event = event_from_doc({"_id": "c1:2", "seq": 9, "conversation_id": "c1", "version": 2, "type": "assigned",
                            "from_state": "offered", "to_state": "assigned", "at": at, "channel": "webchat",
                            "queue": "general", "agent_id": "a1", "actor": "a1", "detail": {}, "changes": {}})
    assert (event.seq, event.id, event.type, event.agent_id, event.at) == (9, "c1:2", "assigned", "a1", at)
    assert "webchat" not in repr(event)


# --- a model of the whole protocol ------------------------------------------------------------------

@dataclass
class Writer:
    event_id: str
    seq: int | None = None
    drawn_at: float = 0.0
    stored: bool = False
    done: bool = False


@dataclass
class World:
    """The database (counter, seal, events by number, voids), the writers and one consumer."""

    now: float = 0.0
    counter: int = 0
    sealed: int = 0
    table: dict[int, str] = field(default_factory=dict)
    voids: set[int] = field(default_factory=set)
    writers: list[Writer] = field(default_factory=list)
    checkpoint: int = 0
    watch: HoleWatch | None = None
    taken: list[str] = field(default_factory=list)

    def draw(self) -> int:
        self.counter += 1
        return self.counter

    def step_writer(self, writer: Writer, lose: bool) -> None:
        if writer.done:
            return
        if writer.seq is None:
            writer.seq, writer.drawn_at = self.draw(), self.now
        elif not writer.stored and lose:  # lost the version race: no event, the number is void
            self.voids.add(writer.seq)
            writer.done = True
        elif not writer.stored:
            self.table[writer.seq] = writer.event_id
            writer.stored = True
            if not must_confirm(self.now - writer.drawn_at):
                writer.done = True
        else:  # the confirmation, possibly long after the insert
            while writer.seq <= self.sealed:
                del self.table[writer.seq]
                writer.seq, writer.drawn_at = self.draw(), self.now
                self.table[writer.seq] = writer.event_id
            writer.done = True

    def step_consumer(self) -> None:
        seqs = sorted(s for s in self.table if s > self.checkpoint)
        step = plan(self.checkpoint, seqs, sealed=self.sealed, voids=self.voids, watch=self.watch, now=self.now)
        self.taken += [self.table[s] for s in seqs[:step.take]]
        self.checkpoint, self.watch = max(self.checkpoint, step.checkpoint), step.watch
        if step.seal_to is not None:
            self.sealed = max(self.sealed, step.seal_to)


ACTIONS = st.one_of(
    st.tuples(st.just("write"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("consume"), st.just(0), st.just(False)),
    st.tuples(st.just("tick"), st.sampled_from([0.1, 0.5, 1.0, CONFIRM_AFTER_S, GAP_TIMEOUT_S]), st.just(False)),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(ACTIONS, max_size=40), st.integers(1, 3))
def test_no_stored_event_is_ever_left_behind(actions: list[tuple[str, float, bool]], writers: int) -> None:
    world = World()
    pool = [Writer(f"e{i}") for i in range(writers)]
    for kind, arg, lose in actions:
        if kind == "tick":
            world.now += arg
        elif kind == "consume":
            world.step_consumer()
        else:
            index = int(arg) % writers
            writer = pool[index]
            if writer.done:  # a finished writer goes on with its next event
                writer = pool[index] = Writer(f"{writer.event_id}'")
            if writer not in world.writers:
                world.writers.append(writer)
            world.step_writer(writer, lose and writer.seq is not None and not writer.stored)
    for writer in world.writers:  # every writer finishes (stores, confirms), however late
        while not writer.done:
            world.step_writer(writer, lose=False)
    for _ in range(5):  # then the consumer runs long enough to seal every hole left
        world.now += GAP_TIMEOUT_S
        world.step_consumer()
        world.step_consumer()
    stored = set(world.table.values())
    assert stored <= set(world.taken), sorted(stored - set(world.taken))
    assert world.checkpoint >= max(world.table, default=0)


def run(world: World, script: list[tuple[str, float, bool]], pool: list[Writer]) -> None:
    for kind, arg, lose in script:
        if kind == "tick":
            world.now += arg
        elif kind == "consume":
            world.step_consumer()
        else:
            writer = pool[int(arg)]
            if writer not in world.writers:
                world.writers.append(writer)
            world.step_writer(writer, lose)


def test_a_writer_slower_than_the_seal_renumbers_its_event() -> None:
    world, pool = World(), [Writer("slow"), Writer("fast")]
    run(world, [("write", 0, False), ("write", 1, False), ("write", 1, False),  # 1 drawn; 2 drawn and stored
                ("consume", 0, False), ("tick", GAP_TIMEOUT_S, False), ("consume", 0, False),  # hole 1 sealed
                ("consume", 0, False), ("write", 0, False), ("write", 0, False)], pool)  # 1 stored late, confirmed
    assert world.sealed == 1 and world.checkpoint == 2
    assert world.table == {2: "fast", 3: "slow"}
    world.step_consumer()
    assert world.taken == ["fast", "slow"]
