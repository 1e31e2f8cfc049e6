"""The secret-key check: refused whenever the hub does not run on its embedded services."""

from __future__ import annotations

import secrets

import pytest
from pydantic import SecretStr

from hub.config import DEV_SECRET, Settings

GOOD = secrets.token_urlsafe(32)


def settings(key: str, *, mongo: bool = False, redis: bool = False) -> Settings:
    return Settings(secret_key=SecretStr(key), mongo_url=SecretStr("mongodb://127.0.0.1/") if mongo else None,
                    redis_url=SecretStr("redis://127.0.0.1/") if redis else None)


@pytest.mark.parametrize(("mongo", "redis"), [(True, False), (False, True), (True, True)])
def test_any_external_service_means_production(mongo: bool, redis: bool) -> None:
    assert not settings(DEV_SECRET, mongo=mongo, redis=redis).development_mode
    assert settings(DEV_SECRET, mongo=mongo, redis=redis).production_problems()


def test_embedded_services_mean_development() -> None:
    assert settings(DEV_SECRET).development_mode


@pytest.mark.parametrize("key", [DEV_SECRET, "short-but-random-9f3k", " " * 32, "a" * 64, "ab" * 20,
                                 "012345678" * 4])
def test_weak_keys_are_refused(key: str) -> None:
    problems = settings(key, redis=True).production_problems()
    assert problems and "HUB_SECRET_KEY" in problems[0]


@pytest.mark.parametrize("key", [GOOD, "9f86d081884c7d659a2feaa0c55ad015",
                                 "test-secret-0123456789abcdef0123456789abcdef"])
def test_random_keys_pass(key: str) -> None:
    assert settings(key, mongo=True, redis=True).production_problems() == []
