"""Contract harness for Telegram: our Bot API stand-in (in this process) and a hub wired to it.

The hub runs in webhook mode on a port chosen up front (so its public URL, registered with
setWebhook, is known before it starts); customers are Telegram users of the stand-in.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

from pydantic import SecretStr

from channels.telegram.adapter import TelegramChannel
from hub.bootstrap import RunningHub, running_hub
from hub.config import HttpSettings, Settings, TelegramSettings
from hub.embedded import free_port
from tests.conftest import eventually, make_settings
from tests.standins.telegram_bot_api import BotApiStandIn, TgUser

WEBHOOK_SECRET = "contract-secret_0123456789"


def telegram_settings(base: Settings, standin: BotApiStandIn, **telegram: Any) -> Settings:
    """``base`` with Telegram pointed at ``standin``, webhook mode on a free port known in advance."""
    port = free_port()
    options: dict[str, Any] = {"token": SecretStr(standin.token), "api_url": standin.url,
                               "webhook_secret": SecretStr(WEBHOOK_SECRET), **telegram}
    return base.model_copy(update={
        "http": HttpSettings(host="127.0.0.1", port=port, public_url=f"http://127.0.0.1:{port}"),
        "telegram": TelegramSettings(**options)})


async def wait_until_receiving(standin: BotApiStandIn, mode: str = "webhook") -> None:
    """Webhook mode: setWebhook reached the stand-in. Polling: a getUpdates call did."""
    if mode == "polling":
        await eventually(lambda: any(method == "getUpdates" for method, _ in standin.calls))
    else:
        await eventually(lambda: standin.webhook.url.endswith("/channels/telegram/webhook"))


def adapter_of(hub: RunningHub) -> TelegramChannel:
    """The adapter instance the hub's outbox really sends with."""
    sender = hub.context.outbox.sender("telegram")
    assert isinstance(sender, TelegramChannel)
    return sender


class TelegramHarness:
    channel = "telegram"

    def __init__(self, hub: RunningHub, standin: BotApiStandIn, sender: TelegramChannel) -> None:
        self.hub = hub
        self.standin = standin
        self.sender = sender
        self._users: dict[str, TgUser] = {}
        self._last_inbound: dict[str, Any] | None = None

    def customer_address(self) -> str:
        user = self.standin.user(first_name="Mei", last_name="Chen")
        self._users[str(user.id)] = user
        return str(user.id)

    def invalid_address(self) -> str:
        return str(9_000_000_000 + secrets.randbelow(10**8))  # a chat id no user ever opened: "chat not found"

    async def customer_sends(self, sender: str, text: str) -> None:
        self._last_inbound = await self.standin.send_text(self._users[sender], text)
        await self._delivered(self._last_inbound["update_id"])

    async def customer_received(self, address: str, timeout_s: float) -> list[str]:
        with contextlib.suppress(AssertionError):
            await eventually(lambda: self.standin.sent_to(int(address)), timeout=timeout_s)
        return [m["text"] for m in self.standin.sent_to(int(address))]

    def buttons_seen(self, address: str) -> bool:
        return any(m.get("reply_markup", {}).get("inline_keyboard") for m in self.standin.sent_to(int(address)))

    async def peer_down(self) -> None:
        await self.standin.down()

    async def peer_up(self) -> None:
        await self.standin.up()

    async def redeliver_last_inbound(self) -> None:
        assert self._last_inbound is not None, "nothing was sent yet"
        await self.standin.redeliver(self._last_inbound)
        deliveries = self.standin.webhook_deliveries
        update_id = self._last_inbound["update_id"]
        await eventually(lambda: deliveries.count(update_id) >= 2)

    async def _delivered(self, update_id: int) -> None:
        await eventually(lambda: update_id in self.standin.webhook_deliveries, timeout=15)


@contextlib.asynccontextmanager
async def harness(*, mongo_url: str, redis_url: str, db_name: str) -> AsyncIterator[TelegramHarness]:
    async with BotApiStandIn() as standin:
        settings = telegram_settings(make_settings(db_name), standin)
        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
            await wait_until_receiving(standin)
            yield TelegramHarness(hub, standin, adapter_of(hub))
