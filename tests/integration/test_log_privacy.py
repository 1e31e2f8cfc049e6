"""No secret and no personal data in the hub's logs, whatever reaches its HTTP endpoints.

Kannel's callbacks carry the shared secret, the customer's phone number and the SMS text in the
query string; the access log and aiohttp's report of a malformed request must not repeat them.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import aiohttp
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from hub.bootstrap import running_hub
from hub.config import HttpSettings, SmsSettings
from hub.embedded import free_port
from tests.conftest import eventually, make_settings

SECRET = "s3cret-kannel-callback-key"
PHONE = "+8613912345678"
TEXT = "我的电表号是 4401-2287"


async def test_channel_callbacks_leave_no_secret_or_personal_data_in_the_logs(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    settings = make_settings(db_name).model_copy(update={
        "http": HttpSettings(host="127.0.0.1", port=port),
        # Nothing listens on port 9: replies would only queue. The MO callback is what is tested.
        "sms": SmsSettings(kannel_url="http://127.0.0.1:9", secret=SecretStr(SECRET)),
    })
    caplog.set_level(logging.INFO)  # the hub runs at INFO; its DEBUG is for developers
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub, aiohttp.ClientSession() as http:
        query = f"secret={SECRET}&from={quote(PHONE)}&to=10086&text={quote(TEXT)}&coding=0&charset=UTF-8&id=k-1"
        async with http.get(f"{hub.base_url}/channels/sms/mo?{query}") as answer:
            assert answer.status == 200
        wrong = query.replace(SECRET, SECRET[::-1])
        async with http.get(f"{hub.base_url}/channels/sms/mo?{wrong}") as answer:
            assert answer.status == 403
        async with http.get(f"{hub.base_url}/channels/sms/mo?{query}&pad={'a' * 9000}") as answer:
            assert answer.status in {400, 413}  # the request line is over aiohttp's limit
        await eventually(lambda: any(r.name == "aiohttp.access" for r in caplog.records))

    logged = "\n".join(caplog.text.splitlines() + [r.getMessage() for r in caplog.records])
    assert "/channels/sms/mo" in logged, "the requests are logged, by path"
    for private in (SECRET, SECRET[::-1], PHONE, quote(PHONE), "13912345678", TEXT, quote(TEXT)):
        assert private not in logged, f"{private!r} reached the logs"
