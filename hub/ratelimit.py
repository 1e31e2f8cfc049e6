"""A token bucket: pure arithmetic over (tokens, last refill), time passed in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bucket:
    tokens: float
    updated_s: float


def take(bucket: Bucket | None, *, now_s: float, rate_per_s: float, burst: float) -> tuple[bool, Bucket]:
    """Spend one token if there is one; returns (allowed, the bucket after)."""
    current = bucket or Bucket(burst, now_s)
    tokens = min(burst, current.tokens + (now_s - current.updated_s) * rate_per_s)
    if tokens < 1:
        return False, Bucket(tokens, now_s)
    return True, Bucket(tokens - 1, now_s)


def wait_s(bucket: Bucket, *, rate_per_s: float) -> float:
    """Seconds from the bucket's last update until it holds a whole token again."""
    return max(0.0, (1 - bucket.tokens) / rate_per_s)
