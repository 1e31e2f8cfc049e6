"""No secret and no personal data in the hub's logs, whatever reaches its HTTP endpoints and whichever
library writes the line.

Kannel's callbacks carry the shared secret, the customer's phone number and the SMS text in the
query string; the access log and aiohttp's report of a malformed request must not repeat them.
Every Bot API URL carries the Telegram bot's token, and httpx logs every URL it requests.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import aiohttp
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import running_hub
from hub.config import EmailSettings, HttpSettings, SmsSettings
from hub.embedded import free_port
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings
from tests.contract.harness_telegram import WEBHOOK_SECRET, telegram_settings, wait_until_receiving
from tests.standins.telegram_bot_api import BotApiStandIn

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


SECRET_KEY = "log-privacy-secret-key-0123456789abcdefghij"
KANNEL_PASSWORD = "kannel-sendsms-pw-42"
SMTP_PASSWORD = "smtp-submission-pw-42"
THIRD_PARTY = ("httpx", "httpcore", "telegram", "aiohttp", "pymongo", "redis", "asyncio", "hub", "channels", "console")
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8 + b"\xff\xd9"


async def test_telegram_bot_token_and_other_secrets_reach_no_log_record_of_any_logger(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger at DEBUG, the libraries' own included
    for name in THIRD_PARTY:
        caplog.set_level(logging.DEBUG, logger=name)
    async with BotApiStandIn() as standin:
        settings = telegram_settings(make_settings(db_name), standin).model_copy(update={
            "secret_key": SecretStr(SECRET_KEY),
            "sms": SmsSettings(kannel_url="http://127.0.0.1:9", secret=SecretStr(SECRET),
                               password=SecretStr(KANNEL_PASSWORD)),
            "email": EmailSettings(smtp_host="127.0.0.1", smtp_port=9, smtp_password=SecretStr(SMTP_PASSWORD)),
        })
        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
            await load_demo(hub.context.directory)
            await wait_until_receiving(standin)  # setWebhook, with the webhook secret as a parameter
            alice = await AgentClient.online(hub.base_url, "alice")
            try:
                user = standin.user("Mei", "Chen")
                await standin.send_photo(user, [(90, 67, JPEG)], caption="my meter")  # getFile, the download
                cid = await alice.take_offer(timeout=20)
                await alice.reply(cid, "Thanks, checking your meter.")  # sendMessage
                await eventually(lambda: standin.sent_to(user), timeout=20)
            finally:
                await alice.close()
        token = standin.token

    records = caplog.records
    logged = "\n".join([caplog.text, *(r.getMessage() for r in records), *(r.exc_text or "" for r in records),
                        *(r.stack_info or "" for r in records)])
    secrets = (token, token.split(":")[1], WEBHOOK_SECRET, SECRET_KEY, SECRET, KANNEL_PASSWORD, SMTP_PASSWORD)
    for secret in secrets:
        leaks = sorted({r.name for r in records if secret in r.getMessage() or secret in (r.exc_text or "")})
        assert secret not in logged, f"a secret reached the logs of {leaks}"
    bot_api_lines = [r.getMessage() for r in records if r.name.startswith("httpx")]
    assert any("/bot[redacted]/sendMessage" in m for m in bot_api_lines), "httpx's request lines were captured"
    assert any("/file/bot[redacted]/" in m for m in bot_api_lines), "the file download was captured"
