"""The one visibility rule (hub.domain.visibility), as a table: every role x every conversation situation."""

from __future__ import annotations

from typing import Any

import pytest

from hub.domain.ids import AgentId, Role, Skill
from hub.domain.model import Agent
from hub.domain.states import ConversationState
from hub.domain.visibility import (
    ContactSight,
    ConversationFacts,
    Sight,
    contact_sight,
    conversation_sight,
    may_edit_contact,
    may_merge_contacts,
    may_see_contact,
    sees_contacts,
)

S = ConversationState
N, T, F = Sight.NONE, Sight.TRANSCRIPT, Sight.FULL
ME = "a_me"
OTHER = "a_other"  # another agent, in no team of hers
MEMBER = "a_member"  # an agent of the team she leads when she is a team leader


def staff(role: Role, skills: tuple[str, ...] = ("general",), agent_id: str = ME) -> Agent:
    leads = frozenset({AgentId(MEMBER)}) if role is Role.TEAM_LEADER else frozenset()
    return Agent(id=AgentId(agent_id), username="me", display_name="Me", role=role,
                 skills=frozenset(Skill(s) for s in skills), capacity={}, password_hash="", leads=leads)


def conv(state: ConversationState, agent: str | None = None, *, served: bool = False,
         skills: tuple[str, ...] = ("general",)) -> ConversationFacts:
    return ConversationFacts(state=state, agent_id=agent, skills=frozenset(Skill(s) for s in skills),
                             served_by_viewer=served)


# situation -> the conversation; then the sight of agent, supervisor, trainer, admin, team leader
# (who leads MEMBER; OTHER is in no team of hers).
SITUATIONS: dict[str, ConversationFacts] = {
    "new": conv(S.NEW),
    "with the bot": conv(S.BOT),
    "queued, her skills": conv(S.QUEUED),
    "queued, no skills needed": conv(S.QUEUED, skills=()),
    "queued, a skill she lacks": conv(S.QUEUED, skills=("billing",)),
    "queued, she served it before (transferred)": conv(S.QUEUED, served=True, skills=("billing",)),
    "offered to her": conv(S.OFFERED, ME),
    "offered to another": conv(S.OFFERED, OTHER),
    "assigned to her": conv(S.ASSIGNED, ME),
    "assigned to another": conv(S.ASSIGNED, OTHER),
    "assigned to another, she served it before": conv(S.ASSIGNED, OTHER, served=True),
    "wrap-up, hers": conv(S.WRAP_UP, ME),
    "wrap-up, another's": conv(S.WRAP_UP, OTHER),
    "resolved, she held it last": conv(S.RESOLVED, ME),
    "resolved, she served it before another": conv(S.RESOLVED, OTHER, served=True),
    "resolved, never hers": conv(S.RESOLVED, OTHER),
    "resolved from the queue by a supervisor": conv(S.RESOLVED),
    "abandoned while her phone rang": conv(S.ABANDONED, ME),
    "abandoned in the queue": conv(S.ABANDONED),
    "closed, hers": conv(S.CLOSED, ME),
    "closed, never hers": conv(S.CLOSED, OTHER),
    "offered to her team's member": conv(S.OFFERED, MEMBER),
    "assigned to her team's member": conv(S.ASSIGNED, MEMBER),
    "wrap-up, her team's member's": conv(S.WRAP_UP, MEMBER),
    "resolved, her team's member held it last": conv(S.RESOLVED, MEMBER),
    "abandoned while her member's phone rang": conv(S.ABANDONED, MEMBER),
    "closed, her team's member's": conv(S.CLOSED, MEMBER),
}
EXPECTED: dict[str, tuple[Sight, Sight, Sight, Sight, Sight, Sight]] = {
    #                                             agent supervisor trainer admin leader department
    "new":                                        (N, F, N, F, N, N),
    "with the bot":                               (N, F, N, F, N, N),
    "queued, her skills":                         (T, F, N, F, T, N),
    "queued, no skills needed":                   (T, F, N, F, T, N),
    "queued, a skill she lacks":                  (N, F, N, F, N, N),
    "queued, she served it before (transferred)": (N, F, N, F, N, N),
    "offered to her":                             (F, F, N, F, F, N),
    "offered to another":                         (N, F, N, F, N, N),
    "assigned to her":                            (F, F, N, F, F, N),
    "assigned to another":                        (N, F, N, F, N, N),
    "assigned to another, she served it before":  (N, F, N, F, N, N),
    "wrap-up, hers":                              (F, F, N, F, F, N),
    "wrap-up, another's":                         (N, F, N, F, N, N),
    "resolved, she held it last":                 (F, F, N, F, F, N),
    "resolved, she served it before another":     (F, F, N, F, F, N),
    "resolved, never hers":                       (N, F, N, F, N, N),
    "resolved from the queue by a supervisor":    (N, F, N, F, N, N),
    "abandoned while her phone rang":             (F, F, N, F, F, N),
    "abandoned in the queue":                     (N, F, N, F, N, N),
    "closed, hers":                               (F, F, N, F, F, N),
    "closed, never hers":                         (N, F, N, F, N, N),
    "offered to her team's member":               (N, F, N, F, F, N),
    "assigned to her team's member":              (N, F, N, F, F, N),
    "wrap-up, her team's member's":               (N, F, N, F, F, N),
    "resolved, her team's member held it last":   (N, F, N, F, F, N),
    "abandoned while her member's phone rang":    (N, F, N, F, F, N),
    "closed, her team's member's":                (N, F, N, F, F, N),
}
ROLES = (Role.AGENT, Role.SUPERVISOR, Role.TRAINER, Role.ADMIN, Role.TEAM_LEADER, Role.DEPARTMENT)


def test_the_table_covers_every_state_and_role() -> None:
    assert set(SITUATIONS) == set(EXPECTED)
    assert {c.state for c in SITUATIONS.values()} == set(ConversationState)
    assert set(ROLES) == set(Role)


@pytest.mark.parametrize("situation", list(SITUATIONS))
@pytest.mark.parametrize("role", ROLES, ids=str)
def test_conversation_sight(role: Role, situation: str) -> None:
    expected = EXPECTED[situation][ROLES.index(role)]
    assert conversation_sight(staff(role), SITUATIONS[situation]) is expected


@pytest.mark.parametrize("situation", list(SITUATIONS))
@pytest.mark.parametrize("role", ROLES, ids=str)
def test_a_contact_with_one_conversation(role: Role, situation: str) -> None:
    """Seen with any conversation it shows; changed only by whoever serves it now (or supervises)."""
    viewer, facts = staff(role), [SITUATIONS[situation]]
    sight = EXPECTED[situation][ROLES.index(role)]
    assert may_see_contact(viewer, facts) is sight.visible
    serving_now = situation in ("assigned to her", "wrap-up, hers")
    assert may_edit_contact(viewer, facts) is (role in (Role.SUPERVISOR, Role.ADMIN) or
                                               (role in (Role.AGENT, Role.TEAM_LEADER) and serving_now))


def test_the_reported_case_one_old_conversation_does_not_open_another_agents_live_one() -> None:
    bob = staff(Role.AGENT)
    contact = [conv(S.RESOLVED, ME), conv(S.ASSIGNED, OTHER)]  # his old one, Alice's live one
    assert may_see_contact(bob, contact)
    assert [conversation_sight(bob, c) for c in contact] == [F, N]
    assert not may_edit_contact(bob, contact)


def test_a_contact_shows_each_viewer_only_her_conversations_and_notes() -> None:
    docs: list[dict[str, Any]] = [
        {"_id": "c_old", "state": "resolved", "agent_id": OTHER},  # she served it, then transferred it
        {"_id": "c_wait", "state": "queued", "agent_id": None, "skills": ["general"]},
        {"_id": "c_live", "state": "assigned", "agent_id": ME}]
    mine = contact_sight(staff(Role.AGENT), docs, served={"c_old"})
    assert (mine.visible, mine.editable) == (True, True)
    assert [c["_id"] for c in mine.shown] == ["c_old", "c_wait", "c_live"]
    assert (mine.with_notes, mine.without_notes) == (["c_old", "c_live"], ["c_wait"])
    stranger = staff(Role.AGENT, ("billing",), agent_id="a_stranger")  # lacks the queue's skill
    assert contact_sight(stranger, docs, served=set()) == ContactSight(
        visible=False, editable=False, shown=[], with_notes=[], without_notes=[])
    trainer = contact_sight(staff(Role.TRAINER), docs, served=set())
    assert not trainer.visible and trainer.shown == []
    boss = contact_sight(staff(Role.SUPERVISOR), docs, served=set())
    assert boss.editable and boss.with_notes == ["c_old", "c_wait", "c_live"] and boss.without_notes == []


def test_contacts_are_not_for_trainers() -> None:
    assert [sees_contacts(staff(r)) for r in ROLES] == [True, True, False, True, True, False]
    assert may_see_contact(staff(Role.SUPERVISOR), []) and not may_see_contact(staff(Role.AGENT), [])


SERVING = conv(S.ASSIGNED, ME)
SERVED = conv(S.RESOLVED, OTHER, served=True)


@pytest.mark.parametrize(("role", "survivor", "other", "allowed"), [
    (Role.SUPERVISOR, [], [], True),
    (Role.ADMIN, [conv(S.ASSIGNED, OTHER)], [], True),
    (Role.AGENT, [SERVING], [SERVED], True),
    (Role.AGENT, [SERVED], [SERVING], True),  # either side may be the one she serves now
    (Role.AGENT, [SERVING], [conv(S.RESOLVED, ME)], True),
    (Role.AGENT, [SERVED], [SERVED], False),  # served both, serves neither now
    (Role.AGENT, [SERVING], [conv(S.RESOLVED, OTHER)], False),  # never talked to the other customer
    (Role.AGENT, [SERVING], [conv(S.QUEUED)], False),  # she may look at it in the queue: not enough
    (Role.AGENT, [conv(S.OFFERED, ME)], [SERVED], False),  # an offer is not yet a conversation with her
    (Role.TRAINER, [SERVING], [SERVED], False),
])
def test_who_may_merge(role: Role, survivor: list[ConversationFacts], other: list[ConversationFacts],
                       allowed: bool) -> None:
    assert may_merge_contacts(staff(role), survivor, other) is allowed


def test_facts_from_a_stored_document() -> None:
    doc = {"_id": "c_1", "state": "queued", "agent_id": None, "skills": ["billing"]}
    assert ConversationFacts.of(doc) == conv(S.QUEUED, skills=("billing",))
    assert ConversationFacts.of({"state": "resolved", "agent_id": OTHER}, served_by_viewer=True) == conv(
        S.RESOLVED, OTHER, served=True, skills=())


def test_a_team_leader_sees_her_members_conversations_not_another_teams() -> None:
    lena = staff(Role.TEAM_LEADER)
    assert conversation_sight(lena, conv(S.ASSIGNED, MEMBER)) is F
    assert conversation_sight(lena, conv(S.ASSIGNED, OTHER)) is N
    assert conversation_sight(lena, conv(S.ASSIGNED, ME)) is F  # she takes conversations herself too
    # Seeing a member's conversation is not serving it: she may not change its contact.
    assert may_see_contact(lena, [conv(S.ASSIGNED, MEMBER)])
    assert not may_edit_contact(lena, [conv(S.ASSIGNED, MEMBER)])
    # A team leader of no team is an agent.
    alone = Agent(id=AgentId(ME), username="me", display_name="Me", role=Role.TEAM_LEADER,
                  skills=frozenset({Skill("general")}), capacity={}, password_hash="")
    assert [conversation_sight(alone, c) for c in SITUATIONS.values()] == [
        conversation_sight(staff(Role.AGENT), c) for c in SITUATIONS.values()]
