"""Transitions decided together and stored together (routing's offers of one round).

Pure values. A ``Move`` names the conversation by id and the state its decider saw: the store
reads every conversation of a batch at once and refuses, per move, the one that is no longer
there (``refused`` carries the ``HubError`` code), without failing the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.domain.events import EventType
from hub.domain.ids import ConversationId
from hub.domain.model import NO_DETAIL, Conversation
from hub.domain.states import ConversationState


@dataclass(frozen=True, slots=True, kw_only=True)
class Move:
    """Move ``conversation_id`` from ``source`` to ``target``, labelled ``event_type``."""

    conversation_id: ConversationId
    source: ConversationState
    target: ConversationState
    event_type: EventType
    actor: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    detail: Mapping[str, str] = field(default_factory=lambda: NO_DETAIL)


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveOutcome:
    """What became of one move: ``moved`` (the conversation after it) or ``refused`` (an error code:
    ``not_found``, ``illegal_transition`` when it is no longer in ``source``, ``conflict``)."""

    move: Move
    moved: Conversation | None = None
    refused: str | None = None
    found: ConversationState | None = None  # the state a refused move found (None: no such conversation)
