"""Who may see a conversation (and its private notes), a contact and its timeline, and who may
change a contact: the hub's one visibility rule, pure (no I/O, no clock).

Every reader of conversations goes through :func:`conversation_sight`: the conversation API and the
inbox (``console/api.py``), ``AgentDesk.view``/``may_view`` (``hub.conversations.agents``), the
console's live fan-out and the contact profile, timeline and search (``hub/contacts.py``). The rule, by role:

- **supervisor, admin**: everything, private notes included; they may change every contact.
- **team leader**: what an agent sees (she may take conversations herself), and besides every
  conversation offered, assigned, in wrap-up, resolved or closed *held by a member of her team*
  (``Agent.leads``), private notes included: she coaches them. Not another team's, and no more of
  the queue than her skills show. She may change a contact only as an agent may.
- **trainer**: no conversation and no contact. The trainer page needs only ``/api/trainer/*``,
  whose turns carry the customer's text they review.
- **agent**:

  ============================================  ============  =============
  the conversation                              she sees it   private notes
  ============================================  ============  =============
  offered, assigned or in wrap-up *to her*      yes           yes
  offered, assigned or in wrap-up to another    no            no
  queued, and she has every skill it needs      yes           no
  queued for skills she lacks; ``new``; ``bot`` no            no
  resolved or closed, and she served it         yes           yes
  resolved or closed, served by others only     no            no
  ============================================  ============  =============

  "Served" means it was assigned to her at some point (the caller reads the ``assigned`` events);
  a finished conversation's ``agent_id`` is the agent who held it last, who served it too. Queued
  conversations are shown as the inbox shows them, for the agent to see what waits; their notes
  (a transferring agent's, a supervisor's) are for whoever the conversation is routed to, and
  reach her once it is offered to her.

Supervisors' figures (``figures_sight``): supervisors and admins read all of them; a team leader
the figures of her members' work only (their answers, handle time, occupancy, in any breakdown);
agents and trainers none.

A contact is visible to an agent when one of its conversations is, and its profile and timeline
list only those conversations (the others are left out, not blanked). An agent may change a
contact (rename, link identities) only while she is serving one of its conversations (assigned
or in wrap-up to her: she is talking to the customer); merging two contacts also needs that she
served the other one (a wrong merge shows one customer's history to another).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub.domain.ids import Role, Skill
from hub.domain.model import Agent
from hub.domain.states import HELD_BY_AGENT, ConversationState

S = ConversationState
SEES_EVERYTHING = frozenset({Role.SUPERVISOR, Role.ADMIN})
SERVES = frozenset({Role.AGENT, Role.TEAM_LEADER})  # take conversations themselves; the agent's rule
HOLDING = frozenset({S.OFFERED, S.ASSIGNED, S.WRAP_UP})  # the conversation names its agent
FINISHED = frozenset({S.RESOLVED, S.ABANDONED, S.CLOSED})


class Sight(enum.Enum):
    """How much of one conversation one staff member may see."""

    NONE = "none"  # not even that it exists: HTTP 403, left out of lists and timelines
    TRANSCRIPT = "transcript"  # the conversation, its events and messages, without private notes
    FULL = "full"  # everything, private notes included

    @property
    def visible(self) -> bool:
        return self is not Sight.NONE

    @property
    def notes(self) -> bool:
        return self is Sight.FULL


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationFacts:
    """What the rule needs of one conversation, as seen by one viewer."""

    state: ConversationState
    agent_id: str | None
    skills: frozenset[Skill]
    served_by_viewer: bool = False  # the viewer was assigned it at some point

    @classmethod
    def of(cls, doc: Mapping[str, Any], *, served_by_viewer: bool = False) -> ConversationFacts:
        """From a stored conversation document (or a summary: ``id`` for ``_id`` is not needed)."""
        return cls(state=ConversationState(doc["state"]), agent_id=doc.get("agent_id"),
                   skills=frozenset(Skill(s) for s in doc.get("skills", ())), served_by_viewer=served_by_viewer)


def conversation_sight(viewer: Agent, conversation: ConversationFacts) -> Sight:
    """The rule of the module docstring for one conversation."""
    if viewer.role in SEES_EVERYTHING:
        return Sight.FULL
    if viewer.role not in SERVES:
        return Sight.NONE
    state = conversation.state
    if (viewer.role is Role.TEAM_LEADER and conversation.agent_id in viewer.leads
            and (state in HOLDING or state in FINISHED)):
        return Sight.FULL  # held (or held last) by a member of her team
    if state in HOLDING:
        return Sight.FULL if conversation.agent_id == viewer.id else Sight.NONE
    if state is S.QUEUED:
        return Sight.TRANSCRIPT if conversation.skills <= viewer.skills else Sight.NONE
    if state in FINISHED and (conversation.served_by_viewer or conversation.agent_id == viewer.id):
        return Sight.FULL
    return Sight.NONE


@dataclass(frozen=True, slots=True)
class FiguresSight:
    """Whose supervisors' figures (``/api/kpi/*``, the wallboard) one staff member may read."""

    visible: bool
    agents: frozenset[str] | None = None  # None: everyone's, queues included; a set: these agents' work only


def figures_sight(viewer: Agent) -> FiguresSight:
    """Supervisors and admins: every figure. A team leader: her members' work only (``Agent.leads``,
    the same members as her conversations' clause above; docs/kpis.md "Team leaders"). Agents and
    trainers: none."""
    if viewer.role in SEES_EVERYTHING:
        return FiguresSight(visible=True)
    if viewer.role is Role.TEAM_LEADER:
        return FiguresSight(visible=True, agents=frozenset(viewer.leads))
    return FiguresSight(visible=False)


class OrderSight(enum.Enum):
    """What one staff member may do with one work order (``hub.work_orders``)."""

    NONE = "none"
    READ = "read"  # look it up (a hotline agent answering the customer's follow-up)
    HANDLE = "handle"  # the department's side: acknowledge, wait on the customer, reply
    MANAGE = "manage"  # the centre's side: dispatch, re-dispatch, close, reopen


def work_order_sight(viewer: Agent, department: str | None) -> frozenset[OrderSight]:
    """Work orders, by role: supervisors and admins manage and handle every order; agents and team
    leaders read every order and manage them (they open, dispatch and close orders for their
    customers); a department user reads and handles only the orders dispatched to her department
    and never sees a conversation; trainers nothing."""
    if viewer.role in SEES_EVERYTHING:
        return frozenset({OrderSight.READ, OrderSight.MANAGE, OrderSight.HANDLE})
    if viewer.role in SERVES:
        return frozenset({OrderSight.READ, OrderSight.MANAGE})
    if viewer.role is Role.DEPARTMENT and viewer.department is not None and department == viewer.department:
        return frozenset({OrderSight.READ, OrderSight.HANDLE})
    return frozenset()


def sees_contacts(viewer: Agent) -> bool:
    """Contacts (search, profiles, timelines) are for agents, supervisors and admins."""
    return viewer.role in SEES_EVERYTHING or viewer.role in SERVES


def serving(viewer: Agent, conversation: ConversationFacts) -> bool:
    """She is talking to the customer in it now (assigned or in wrap-up to her)."""
    return conversation.state in HELD_BY_AGENT and conversation.agent_id == viewer.id


def may_see_contact(viewer: Agent, conversations: Iterable[ConversationFacts]) -> bool:
    """A contact (profile, timeline, audit) is visible with any of its conversations."""
    if viewer.role in SEES_EVERYTHING:
        return True
    return any(conversation_sight(viewer, c).visible for c in conversations)


def may_edit_contact(viewer: Agent, conversations: Iterable[ConversationFacts]) -> bool:
    """Rename it or link identities to it: supervisors and admins, or the agent serving it now."""
    if viewer.role in SEES_EVERYTHING:
        return True
    return viewer.role in SERVES and any(serving(viewer, c) for c in conversations)


def may_merge_contacts(viewer: Agent, survivor: Iterable[ConversationFacts],
                       other: Iterable[ConversationFacts]) -> bool:
    """Supervisors and admins merge any two contacts; an agent only while she serves one of them
    and has served the other (now or before): someone who has talked to both customers."""
    if viewer.role in SEES_EVERYTHING:
        return True
    survivor, other = list(survivor), list(other)

    def served(conversations: list[ConversationFacts]) -> bool:
        return any(serving(viewer, c) or (c.state in FINISHED and conversation_sight(viewer, c).visible)
                   for c in conversations)

    return (may_edit_contact(viewer, survivor) and served(other)) or (
        may_edit_contact(viewer, other) and served(survivor))


# -- a contact as one viewer sees it --------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class ContactSight:
    """What one viewer may see and do of one contact."""

    visible: bool
    editable: bool  # rename, link identities
    shown: list[dict[str, Any]]  # the conversations (documents) she may see, in the order given
    with_notes: list[str]  # ids of the shown conversations whose private notes she may see
    without_notes: list[str]  # ids of the others shown


def facts_of(conversations: Iterable[Mapping[str, Any]], served: Collection[str]) -> list[ConversationFacts]:
    """The rule's view of conversation documents; ``served``: the ids ever assigned to the viewer."""
    return [ConversationFacts.of(c, served_by_viewer=c["_id"] in served) for c in conversations]


def contact_sight(viewer: Agent, conversations: Sequence[dict[str, Any]], served: Collection[str]) -> ContactSight:
    """The contact rule over all of a contact's conversations (documents)."""
    facts = facts_of(conversations, served)
    sights = [conversation_sight(viewer, f) for f in facts]
    shown = [(c, s) for c, s in zip(conversations, sights, strict=True) if s.visible]
    return ContactSight(visible=may_see_contact(viewer, facts), editable=may_edit_contact(viewer, facts),
                        shown=[c for c, _ in shown], with_notes=[c["_id"] for c, s in shown if s.notes],
                        without_notes=[c["_id"] for c, s in shown if not s.notes])
