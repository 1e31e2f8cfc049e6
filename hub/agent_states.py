"""Agent states with reason codes: the console's status changes, recorded as spans, and the time
in each state (``hub.domain.agent_states`` decides; ADR 0026)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hub.clock import Clock, iso
from hub.domain.agent_states import InvalidState, PauseKind, StateSpan, check_change, totals
from hub.domain.ids import AgentStatus
from hub.domain.model import Agent
from hub.errors import InvalidInput
from hub.ports import Acd, AgentStateLog, Directory
from hub.teams import watched_agents

logger = logging.getLogger(__name__)


class AgentStates:
    """Changes an agent's status (and pause reason) in the directory, the state log and routing's
    presence, in that order; reads the spans back with their durations. Cancellation-safe only in
    the sense that every step is idempotent when repeated: a change asked again is not recorded twice."""

    def __init__(self, *, directory: Directory, log: AgentStateLog, acd: Acd, clock: Clock,
                 reasons: Mapping[str, PauseKind], hub_reasons: Mapping[str, PauseKind] | None = None) -> None:
        self._directory = directory
        self._log = log
        self._acd = acd
        self._clock = clock
        self.reasons = dict(reasons)
        # Reasons only the hub sets (missed offers, hub/missed_offers.py): not offered in the picker.
        self._hub_reasons = {**self.reasons, **(hub_reasons or {})}

    async def change(self, agent_id: str, status: AgentStatus, reason: str | None = None, *,
                     by_hub: bool = False) -> Agent:
        """Raises InvalidInput for a pause without a configured reason (or a reason without a pause).
        ``by_hub``: the hub's own reasons are allowed too (``hub_reasons``)."""
        try:
            change = check_change(status, reason, self._hub_reasons if by_hub else self.reasons)
        except InvalidState as err:
            raise InvalidInput(str(err)) from None
        current = await self._directory.agent(agent_id)
        same = current.status is change.status and current.pause_reason == change.reason
        now = self._clock.now()
        updated = await self._directory.set_status(agent_id, change.status, reason=change.reason,
                                                   at=None if same and current.status_since else now)
        if not same or current.status_since is None:
            await self._log.record(StateSpan(agent_id=updated.id, status=change.status, reason=change.reason,
                                             kind=change.kind, started_at=now))
            logger.info("agents.state.changed agent=%s state=%s reason=%s", agent_id, change.status.value,
                        change.reason or "-")
        await self._acd.set_presence(updated, change.status)
        return updated

    async def report(self, viewer: Agent, *, since: datetime, until: datetime | None = None) -> dict[str, Any]:
        """The spans overlapping ``[since, until)`` of the agents ``viewer`` watches (a team leader:
        her team), each with its seconds inside the window, and the totals per agent."""
        watched = watched_agents(viewer)
        now = self._clock.now()
        until = min(until or now, now)
        spans = await self._log.spans(since=since, until=until, agent_ids=watched)
        summed = totals(spans, now=until, since=since)
        return {
            "since": iso(since), "until": iso(until),
            "spans": [{"agent_id": s.agent_id, "state": s.status.value, "reason": s.reason,
                       "kind": s.kind.value if s.kind else None, "from": iso(s.started_at), "to": iso(s.ended_at),
                       "seconds": round(s.seconds(until, since), 3)} for s in spans],
            "totals": {aid: {"by_state": {k: round(v, 3) for k, v in states.items()},
                             "by_kind": {k: round(v, 3) for k, v in summed.by_kind.get(aid, {}).items()}}
                       for aid, states in summed.by_state.items()},
        }

    def reasons_json(self) -> list[dict[str, str]]:
        return [{"code": code, "kind": kind.value} for code, kind in sorted(self.reasons.items())]
