"""The conversation state machine: exactly the edges of DESIGN.md "The conversation" are legal."""

from __future__ import annotations

import itertools

import pytest

from hub.domain.states import TRANSITIONS, ConversationState, check_transition
from hub.errors import HubError, IllegalTransition

S = ConversationState

# Written out from the flow diagram on purpose, not read from TRANSITIONS: a test that derived its
# expectation from the code under test could never fail.
LEGAL: frozenset[tuple[str, str]] = frozenset({
    ("new", "bot"),
    ("new", "queued"),
    ("new", "assigned"),        # an agent called the customer
    ("bot", "queued"),          # handover
    ("bot", "resolved"),        # contained by the bot
    ("queued", "offered"),
    ("queued", "resolved"),
    ("queued", "abandoned"),    # the caller hung up while waiting
    ("offered", "assigned"),    # accepted
    ("offered", "queued"),      # declined, timed out, agent went away
    ("offered", "abandoned"),   # the caller hung up while the agent's phone rang
    ("assigned", "wrap_up"),
    ("assigned", "resolved"),
    ("assigned", "queued"),     # transfer
    ("assigned", "assigned"),   # snoozed or woken: she keeps it (ADR 0049)
    ("wrap_up", "resolved"),
    ("wrap_up", "wrap_up"),     # the wrap-up code chosen after a call's end (its own event)
    ("resolved", "closed"),
    ("resolved", "queued"),     # reopened by staff (issue 16)
})

ALL_PAIRS = list(itertools.product(ConversationState, repeat=2))
LEGAL_PAIRS = [(a, b) for a, b in ALL_PAIRS if (a.value, b.value) in LEGAL]
ILLEGAL_PAIRS = [(a, b) for a, b in ALL_PAIRS if (a.value, b.value) not in LEGAL]


def _ids(pair: tuple[ConversationState, ConversationState]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_the_state_vocabulary_is_the_designed_one() -> None:
    assert {s.value for s in ConversationState} == {
        "new", "bot", "queued", "offered", "assigned", "wrap_up", "resolved", "abandoned", "closed",
    }


def test_expected_edges_only_name_real_states() -> None:
    values = {s.value for s in ConversationState}
    assert {state for edge in LEGAL for state in edge} <= values
    assert len(LEGAL_PAIRS) == len(LEGAL) == 19


def test_transition_table_has_exactly_the_designed_edges() -> None:
    assert set(TRANSITIONS) == set(ConversationState)
    actual = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
    assert actual == LEGAL, f"missing: {sorted(LEGAL - actual)}, unexpected: {sorted(actual - LEGAL)}"


@pytest.mark.parametrize("pair", LEGAL_PAIRS, ids=_ids)
def test_legal_edge_is_allowed(pair: tuple[ConversationState, ConversationState]) -> None:
    current, target = pair
    assert check_transition(current, target) is None


@pytest.mark.parametrize("pair", ILLEGAL_PAIRS, ids=_ids)
def test_illegal_edge_raises_naming_both_states(pair: tuple[ConversationState, ConversationState]) -> None:
    current, target = pair
    with pytest.raises(IllegalTransition) as caught:
        check_transition(current, target)
    message = str(caught.value)
    assert f"from {current.value} to {target.value}" in message
    assert caught.value.code == "illegal_transition"
    assert isinstance(caught.value, HubError)


def test_closed_is_final_and_says_so() -> None:
    with pytest.raises(IllegalTransition, match=r"allowed: none \(final state\)$"):
        check_transition(S.CLOSED, S.QUEUED)


def test_refusal_lists_the_allowed_targets() -> None:
    with pytest.raises(IllegalTransition) as caught:
        check_transition(S.OFFERED, S.RESOLVED)
    assert str(caught.value) == "cannot go from offered to resolved; allowed: abandoned, assigned, queued"


@pytest.mark.parametrize("state", [s for s in ConversationState if s not in (S.WRAP_UP, S.ASSIGNED)],
                         ids=lambda s: s.value)
def test_no_other_state_transitions_to_itself(state: ConversationState) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(state, state)
