"""Web visitor identity tokens (channels/webchat/identity.py) and the token bucket (hub/ratelimit.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.webchat import identity
from hub.ratelimit import Bucket, take

SECRET = b"test-secret-0123456789abcdef"
OTHER_SECRET = b"test-secret-0123456789abcdeF"


# --- identity -------------------------------------------------------------------------------------

def test_issue_then_verify() -> None:
    visitor_id, token = identity.issue(SECRET)
    assert identity.verify(SECRET, visitor_id, token) is True


def test_issued_ids_look_like_visitor_ids_and_are_unique() -> None:
    issued = [identity.issue(SECRET) for _ in range(50)]
    ids = [visitor_id for visitor_id, _ in issued]
    assert len(set(ids)) == 50
    for visitor_id, token in issued:
        assert visitor_id.startswith("v_")
        assert 8 < len(visitor_id) <= 64  # fits Hello.visitor_id's 64-character limit
        assert len(token) == 64 and int(token, 16) >= 0  # hex SHA-256, fits the 128-character limit


def test_token_is_deterministic_for_a_secret_and_id() -> None:
    assert identity.sign(SECRET, "v_abc") == identity.sign(SECRET, "v_abc")
    assert identity.verify(SECRET, "v_abc", identity.sign(SECRET, "v_abc")) is True


def test_token_for_another_id_fails() -> None:
    first_id, first_token = identity.issue(SECRET)
    second_id, second_token = identity.issue(SECRET)
    assert identity.verify(SECRET, second_id, first_token) is False
    assert identity.verify(SECRET, first_id, second_token) is False


def test_token_for_an_id_differing_in_one_character_fails() -> None:
    token = identity.sign(SECRET, "v_abcdef")
    assert identity.verify(SECRET, "v_abcdeg", token) is False
    assert identity.verify(SECRET, "v_abcdef ", token) is False


def test_token_with_another_secret_fails() -> None:
    visitor_id, token = identity.issue(OTHER_SECRET)
    assert identity.verify(SECRET, visitor_id, token) is False
    assert identity.verify(OTHER_SECRET, visitor_id, token) is True


@pytest.mark.parametrize("token", ["", "0" * 64, "not-a-token", "A" * 64])
def test_garbage_tokens_fail(token: str) -> None:
    visitor_id, real = identity.issue(SECRET)
    assert token != real
    assert identity.verify(SECRET, visitor_id, token) is False


def test_tampered_token_fails() -> None:
    visitor_id, token = identity.issue(SECRET)
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert identity.verify(SECRET, visitor_id, flipped) is False
    assert identity.verify(SECRET, visitor_id, token.upper()) is (token == token.upper())


@pytest.mark.parametrize("token", ["é" * 64, "токен", "🔑"], ids=["latin1", "cyrillic", "emoji"])
def test_non_ascii_token_fails_rather_than_raising(token: str) -> None:
    # The token arrives from the widget's hello frame: any string up to 128 characters.
    visitor_id, _ = identity.issue(SECRET)
    assert identity.verify(SECRET, visitor_id, token) is False


@settings(max_examples=200, database=None, deadline=None)
@given(visitor_id=st.text(min_size=1, max_size=64), other=st.text(min_size=1, max_size=64))
def test_property_token_only_verifies_its_own_id(visitor_id: str, other: str) -> None:
    token = identity.sign(SECRET, visitor_id)
    assert identity.verify(SECRET, visitor_id, token) is True
    assert identity.verify(SECRET, other, token) is (other == visitor_id)


# --- rate limit -----------------------------------------------------------------------------------

def run(times: list[float], *, rate: float, burst: float, bucket: Bucket | None = None) -> list[bool]:
    results = []
    for now in times:
        allowed, bucket = take(bucket, now_s=now, rate_per_s=rate, burst=burst)
        results.append(allowed)
    return results


def test_first_take_starts_from_a_full_bucket() -> None:
    assert take(None, now_s=100.0, rate_per_s=1.0, burst=5.0) == (True, Bucket(4.0, 100.0))


def test_burst_allowed_then_refused() -> None:
    assert run([0.0] * 7, rate=1.0, burst=5.0) == [True] * 5 + [False] * 2


def test_refused_take_spends_nothing() -> None:
    bucket = Bucket(0.5, 10.0)
    allowed, after = take(bucket, now_s=10.0, rate_per_s=1.0, burst=5.0)
    assert allowed is False
    assert after == Bucket(0.5, 10.0)


def test_refill_over_time() -> None:
    empty = Bucket(0.0, 0.0)
    assert take(empty, now_s=0.999, rate_per_s=1.0, burst=5.0)[0] is False
    assert take(empty, now_s=1.0, rate_per_s=1.0, burst=5.0) == (True, Bucket(0.0, 1.0))
    assert take(empty, now_s=3.0, rate_per_s=1.0, burst=5.0) == (True, Bucket(2.0, 3.0))


def test_refill_is_capped_at_burst() -> None:
    assert take(Bucket(0.0, 0.0), now_s=10_000.0, rate_per_s=1.0, burst=5.0) == (True, Bucket(4.0, 10_000.0))
    # After a long pause only `burst` more are allowed at once, however long the pause was.
    assert run([0.0] * 5 + [10_000.0] * 7, rate=1.0, burst=5.0) == [True] * 5 + [True] * 5 + [False] * 2


def test_steady_rate_after_burst() -> None:
    # rate 1/2 per second, burst 2: two at once, then one every two seconds.
    times = [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    assert run(times, rate=0.5, burst=2.0) == [True, True, False, False, True, False, True, False]


def test_refused_take_keeps_partial_refill() -> None:
    allowed, after = take(Bucket(0.0, 0.0), now_s=0.5, rate_per_s=1.0, burst=5.0)
    assert allowed is False
    assert after == Bucket(0.5, 0.5)
    assert take(after, now_s=1.0, rate_per_s=1.0, burst=5.0)[0] is True


def test_hub_defaults_allow_ten_at_once() -> None:
    # routes.py: rate_per_minute=60 -> rate 1/s, burst max(10, 60/6) = 10.
    assert run([0.0] * 11, rate=1.0, burst=10.0) == [True] * 10 + [False]


increasing_times = st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=60).map(
    lambda steps: [s / 100 for s in sorted(steps)]
)


@settings(max_examples=300, database=None, deadline=None)
@given(times=increasing_times, rate=st.sampled_from([0.1, 0.5, 1.0, 2.0, 1 / 3, 10.0]),
       burst=st.sampled_from([1.0, 2.0, 5.0, 10.0, 2.5]))
def test_property_never_exceeds_burst(times: list[float], rate: float, burst: float) -> None:
    bucket = None
    for now in times:
        _, bucket = take(bucket, now_s=now, rate_per_s=rate, burst=burst)
        assert 0 <= bucket.tokens <= burst
        assert bucket.updated_s == now


@settings(max_examples=300, database=None, deadline=None)
@given(times=increasing_times, rate=st.sampled_from([0.1, 0.5, 1.0, 2.0, 1 / 3, 10.0]),
       burst=st.sampled_from([1.0, 2.0, 5.0, 10.0, 2.5]))
def test_property_allowed_in_any_window_is_bounded(times: list[float], rate: float, burst: float) -> None:
    allowed = run(times, rate=rate, burst=burst)
    for i in range(len(times)):
        count = 0
        for j in range(i, len(times)):
            count += allowed[j]
            bound = burst + rate * (times[j] - times[i])
            # 1e-9 absorbs float rounding in the refill arithmetic; the count is an integer.
            assert count <= math.floor(bound + 1e-9), (i, j, count, bound)


@settings(max_examples=300, database=None, deadline=None)
@given(times=increasing_times, rate=st.sampled_from([0.1, 0.5, 1.0, 2.0]),
       burst=st.sampled_from([1.0, 2.0, 5.0, 10.0]))
def test_property_first_burst_requests_at_one_instant_are_allowed(
    times: list[float], rate: float, burst: float
) -> None:
    assert run([times[0]] * int(burst), rate=rate, burst=burst) == [True] * int(burst)
