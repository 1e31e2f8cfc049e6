"""Erlang C staffing (pure): agents needed for a service level, with an occupancy cap.

The M/M/N queue of a contact centre: contacts arrive at random (Poisson), handle times are
exponential with mean ``aht_s``, nobody abandons, and a waiting contact is answered by the first
free agent. With ``A`` Erlangs of traffic (``calls * aht_s / interval_s``) and ``N > A`` agents:

- ``P(W)``, the probability that a contact waits at all, is Erlang C. It is computed from Erlang B
  by the recursion ``B(0) = 1``, ``B(n) = A·B(n-1) / (n + A·B(n-1))`` (every ``B`` lies in
  ``[0, 1]``, so no factorial or power of ``A`` ever overflows, for thousands of agents), then
  ``C = N·B / (N - A·(1 - B))``.
- service level ``SL(t) = 1 - P(W)·e^(-(N-A)·t/AHT)``: the share answered within ``t`` seconds;
- ``ASA = P(W)·AHT / (N - A)``, the mean wait of all contacts;
- occupancy ``A / N``.

With ``N ≤ A`` the queue grows without bound: every contact waits (``P(W) = 1``), the service
level is 0 and the ASA infinite. Erlang C ignores abandonment, so it overstaffs lines whose callers
hang up quickly (Erlang A/X would model their patience). Reference (docs/kpis.md, "Staffing"):
10 Erlangs, AHT 180 s, 80 % in 20 s → 14 agents, SL 88.8 %, ASA 7.8 s, occupancy 71.4 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hub.errors import InvalidInput

CAP_SLACK = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class Staffing:
    """What ``agents`` agents give for ``erlangs`` of traffic (``agents == 0`` only without traffic)."""

    agents: int
    erlangs: float
    service_level: float  # share answered within the target time, 0..1
    asa_s: float  # average speed of answer over all contacts, seconds (inf when agents <= erlangs)
    occupancy: float  # erlangs / agents, 0..1 (0 without agents)
    wait_probability: float  # P(W), Erlang C


def traffic_intensity(calls: float, aht_s: float, interval_s: float) -> float:
    """Erlangs: the agents' busy time the contacts of one interval bring, per interval length."""
    if calls < 0 or aht_s <= 0 or interval_s <= 0:
        raise InvalidInput("calls must be >= 0, the handle time and the interval > 0")
    return calls * aht_s / interval_s


def erlang_b(erlangs: float, agents: int) -> float:
    """Blocking probability of ``agents`` servers without a queue (the iterative recursion)."""
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = _next_b(erlangs, n, blocking)
    return blocking


def _next_b(erlangs: float, n: int, previous: float) -> float:
    carried = erlangs * previous
    return carried / (n + carried)


def _c_from_b(erlangs: float, agents: int, blocking: float) -> float:
    if agents <= erlangs:
        return 1.0
    return agents * blocking / (agents - erlangs * (1.0 - blocking))


def erlang_c(erlangs: float, agents: int) -> float:
    """P(W): the probability that a contact waits; 1 when ``agents <= erlangs``."""
    return _c_from_b(erlangs, agents, erlang_b(erlangs, agents))


def _service_level(erlangs: float, agents: int, wait: float, aht_s: float, target_s: float) -> float:
    if agents <= erlangs:
        return 0.0
    return max(0.0, 1.0 - wait * math.exp(-(agents - erlangs) * target_s / aht_s))


def _asa(erlangs: float, agents: int, wait: float, aht_s: float) -> float:
    return math.inf if agents <= erlangs else wait * aht_s / (agents - erlangs)


def evaluate(erlangs: float, agents: int, *, aht_s: float, target_s: float) -> Staffing:
    """Service level, ASA, occupancy and P(W) of ``agents`` agents for ``erlangs`` of traffic."""
    if erlangs < 0 or agents < 0 or aht_s <= 0 or target_s < 0:
        raise InvalidInput("erlangs, agents and the target time must be >= 0, the handle time > 0")
    return _staffing(erlangs, agents, erlang_b(erlangs, agents), aht_s, target_s)


def _staffing(erlangs: float, agents: int, blocking: float, aht_s: float, target_s: float) -> Staffing:
    if erlangs == 0:  # nothing to answer: no agent needed, and nobody waits
        return Staffing(agents=agents, erlangs=0.0, service_level=1.0, asa_s=0.0, occupancy=0.0,
                        wait_probability=0.0)
    wait = _c_from_b(erlangs, agents, blocking)
    return Staffing(agents=agents, erlangs=erlangs,
                    service_level=_service_level(erlangs, agents, wait, aht_s, target_s),
                    asa_s=_asa(erlangs, agents, wait, aht_s),
                    occupancy=erlangs / agents if agents else 0.0, wait_probability=wait)


def service_level(erlangs: float, agents: int, *, aht_s: float, target_s: float) -> float:
    """SL(t) = 1 - P(W)·e^(-(N-A)·t/AHT); 0 when ``agents <= erlangs`` (1 without traffic)."""
    return evaluate(erlangs, agents, aht_s=aht_s, target_s=target_s).service_level


def agents_needed(calls: float, aht_s: float, interval_s: float, target_sl: float, target_s: float,
                  max_occupancy: float = 1.0) -> Staffing:
    """The fewest agents whose service level reaches ``target_sl`` within ``target_s`` seconds and whose
    occupancy is at most ``max_occupancy`` (always more agents than Erlangs).

    ``calls`` arrive in an interval of ``interval_s`` seconds (may be fractional: a forecast).
    No calls need no agent (``agents == 0``). Raises ``InvalidInput`` for a target outside (0, 1),
    a cap outside (0, 1], a negative time or call count, or a handle time or interval <= 0.
    """
    if not 0 < target_sl < 1 or not 0 < max_occupancy <= 1 or target_s < 0:
        raise InvalidInput("target_sl must be in (0, 1), max_occupancy in (0, 1], target_s >= 0")
    erlangs = traffic_intensity(calls, aht_s, interval_s)
    if erlangs == 0:
        return _staffing(0.0, 0, 1.0, aht_s, target_s)
    # The smallest N that is above A and within the cap; then add agents until the SL is met
    # (SL grows with N above A), carrying Erlang B forward one agent at a time.
    # (The cap's bound forgives float noise: 8.5 E at 85 % is 10 agents, not 11.)
    agents = max(math.floor(erlangs) + 1, math.ceil(erlangs / max_occupancy - CAP_SLACK))
    blocking = erlang_b(erlangs, agents)
    while True:
        found = _staffing(erlangs, agents, blocking, aht_s, target_s)
        if found.service_level >= target_sl:  # occupancy only falls as agents are added
            return found
        agents += 1
        blocking = _next_b(erlangs, agents, blocking)
