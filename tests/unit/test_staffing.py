"""Erlang C (hub/staffing.py): the reference values, textbook cases, monotonicity and large inputs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.errors import InvalidInput
from hub.staffing import (
    agents_needed,
    erlang_b,
    erlang_c,
    evaluate,
    service_level,
    traffic_intensity,
)


def test_the_reference_case_needs_14_agents() -> None:
    """100 calls per half hour at 180 s = 10 Erlangs; 80 % in 20 s (docs/kpis.md, "Staffing")."""
    assert traffic_intensity(100, 180, 1800) == pytest.approx(10.0)
    found = agents_needed(100, 180, 1800, 0.8, 20, 0.85)
    assert found.agents == 14
    assert round(found.service_level * 100, 1) == 88.8
    assert round(found.asa_s, 1) == 7.8
    assert round(found.occupancy * 100) == 71
    assert round(found.wait_probability, 3) == 0.174
    assert found.erlangs == pytest.approx(10.0)


def test_one_agent_fewer_misses_the_reference_target() -> None:
    thirteen = evaluate(10, 13, aht_s=180, target_s=20)
    assert round(thirteen.service_level * 100, 1) == 79.6  # below 80 %: 13 is not enough
    assert round(thirteen.asa_s, 1) == 17.1


@pytest.mark.parametrize(("calls", "aht_s", "cap", "agents", "occupancy"), [
    (300, 240, 1.0, 46, 0.87),  # 40 Erlangs at 80/20, no cap: the pooling effect
    (600, 240, 1.0, 87, 0.92),  # 80 Erlangs
    (1200, 300, 1.0, 210, 0.95),  # 200 Erlangs
    (300, 240, 0.85, 48, 0.83),  # the cap adds agents: 40/47 is 85.1 %
])
def test_larger_centres_from_the_notes(calls: float, aht_s: float, cap: float, agents: int,
                                       occupancy: float) -> None:
    found = agents_needed(calls, aht_s, 1800, 0.8, 20, cap)
    assert (found.agents, round(found.occupancy, 2)) == (agents, occupancy)


def test_the_cap_forgives_float_noise() -> None:
    """8.5 Erlangs at a cap of 85 % is exactly 10 agents (8.5 / 0.85 is 10.000000000000002 in floats)."""
    found = agents_needed(85, 180, 1800, 0.01, 20, 0.85)
    assert found.agents == 10
    assert found.occupancy == pytest.approx(0.85)


def test_erlang_b_and_c_textbook_values() -> None:
    assert erlang_b(1.0, 1) == pytest.approx(0.5)  # A / (1 + A)
    assert erlang_b(2.0, 2) == pytest.approx(0.4)  # (4/2) / (1 + 2 + 2)
    assert erlang_c(1.0, 2) == pytest.approx(1 / 3)  # M/M/2 at rho 0.5
    assert erlang_b(5.0, 0) == 1.0


@given(st.floats(0.01, 60), st.integers(0, 80))
def test_erlang_b_equals_the_closed_form(erlangs: float, agents: int) -> None:
    terms = [erlangs**k / math.factorial(k) for k in range(agents + 1)]
    assert erlang_b(erlangs, agents) == pytest.approx(terms[-1] / sum(terms), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("agents", [5, 10])
def test_too_few_agents_wait_forever(agents: int) -> None:
    """N <= A: the queue grows without bound: SL 0, infinite ASA, everybody waits."""
    found = evaluate(10, agents, aht_s=180, target_s=20)
    assert found.service_level == 0.0
    assert found.asa_s == math.inf
    assert found.wait_probability == 1.0
    assert found.occupancy == pytest.approx(10 / agents)
    assert evaluate(10, 0, aht_s=180, target_s=20).occupancy == 0.0


def test_no_calls_need_no_agent() -> None:
    found = agents_needed(0, 180, 1800, 0.8, 20, 0.85)
    assert (found.agents, found.service_level, found.asa_s, found.occupancy, found.wait_probability) == (
        0, 1.0, 0.0, 0.0, 0.0)


def test_a_target_time_of_zero_is_the_share_that_does_not_wait() -> None:
    found = evaluate(10, 14, aht_s=180, target_s=0)
    assert found.service_level == pytest.approx(1 - found.wait_probability)


@pytest.mark.parametrize("bad", [
    dict(calls=-1), dict(aht_s=0), dict(interval_s=0), dict(target_sl=1.0), dict(target_sl=0.0),
    dict(max_occupancy=0.0), dict(max_occupancy=1.01), dict(target_s=-1),
])
def test_impossible_inputs_are_refused(bad: dict[str, float]) -> None:
    args = {"calls": 100.0, "aht_s": 180.0, "interval_s": 1800.0, "target_sl": 0.8, "target_s": 20.0,
            "max_occupancy": 0.85, **bad}
    with pytest.raises(InvalidInput):
        agents_needed(**args)


@settings(max_examples=200)
@given(st.floats(0.1, 300), st.integers(1, 400), st.floats(1, 900), st.floats(0, 120))
def test_one_more_agent_never_lowers_the_service_level(erlangs: float, agents: int, aht_s: float,
                                                       target_s: float) -> None:
    fewer = evaluate(erlangs, agents, aht_s=aht_s, target_s=target_s)
    more = evaluate(erlangs, agents + 1, aht_s=aht_s, target_s=target_s)
    assert more.service_level >= fewer.service_level - 1e-12
    assert more.wait_probability <= fewer.wait_probability + 1e-12
    assert more.asa_s <= fewer.asa_s
    assert 0.0 <= more.service_level <= 1.0 and 0.0 <= more.wait_probability <= 1.0


@settings(max_examples=200)
@given(st.floats(0.01, 2000), st.floats(10, 1200), st.floats(0.05, 0.99), st.floats(0, 300), st.floats(0.3, 1.0))
def test_agents_needed_is_the_smallest_that_meets_both_targets(calls: float, aht_s: float, target_sl: float,
                                                               target_s: float, cap: float) -> None:
    found = agents_needed(calls, aht_s, 1800, target_sl, target_s, cap)
    assert found.agents > found.erlangs
    assert found.service_level >= target_sl
    assert found.occupancy <= cap + 1e-9
    fewer = evaluate(found.erlangs, found.agents - 1, aht_s=aht_s, target_s=target_s)
    assert (fewer.agents <= found.erlangs or fewer.service_level < target_sl
            or fewer.occupancy > cap * (1 + 1e-9))
    assert service_level(found.erlangs, found.agents, aht_s=aht_s, target_s=target_s) == found.service_level


@settings(max_examples=50)
@given(st.floats(500, 5000), st.floats(0.5, 0.99))
def test_hundreds_and_thousands_of_erlangs_without_overflow(erlangs: float, target_sl: float) -> None:
    """A factorial or A**N form overflows a float at about 170 agents; the recursion never does."""
    found = agents_needed(erlangs * 1800 / 300, 300, 1800, target_sl, 20, 0.95)
    assert erlangs < found.agents < erlangs * 1.1 + 50
    for value in (found.service_level, found.asa_s, found.wait_probability, found.occupancy):
        assert math.isfinite(value)
    assert found.service_level >= target_sl


def test_a_very_large_centre() -> None:
    found = agents_needed(100_000, 180, 1800, 0.9, 20, 0.98)  # 10 000 Erlangs
    assert found.agents == 10_205  # the cap binds: 10 000 / 0.98 = 10 204.08; the SL alone needs fewer
    assert found.service_level >= 0.9
    assert agents_needed(100_000, 180, 1800, 0.9, 20, 1.0).agents < 10_205
