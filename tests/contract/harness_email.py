"""Contract harness for e-mail: Postfix + Dovecot (tests/mailserver.py) and a hub reading the
support mailbox over IMAP and sending through Postfix. Customers are mailboxes of example.test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage

from channels.email.sender import SmtpSender
from hub.bootstrap import RunningHub, running_hub
from hub.clock import SystemClock
from tests.conftest import eventually, make_settings
from tests.mailserver import (
    SUPPORT,
    MailServer,
    customer_address,
    customer_mail,
    email_settings,
    mailbox,
    plain_text,
    running_mail_server,
    smtp_send,
)


class EmailHarness:
    channel = "email"

    def __init__(self, hub: RunningHub, server: MailServer, sender: SmtpSender) -> None:
        self.hub = hub
        self.server = server
        self.sender = sender
        self._last_inbound: tuple[str, EmailMessage] | None = None

    def customer_address(self) -> str:
        return customer_address()

    def invalid_address(self) -> str:
        return "nobody-here@example.test"  # Postfix answers 550 at RCPT: unknown user

    async def customer_sends(self, sender: str, text: str) -> None:
        message = customer_mail(sender, text, subject="Contract test")
        await smtp_send(self.server, message, sender=sender, recipients=[SUPPORT])
        self._last_inbound = (sender, message)

    async def redeliver_last_inbound(self) -> None:
        """The same message (same Message-ID) arrives in the mailbox a second time."""
        assert self._last_inbound is not None
        sender, message = self._last_inbound
        await smtp_send(self.server, message, sender=sender, recipients=[SUPPORT])

    async def customer_received(self, address: str, timeout_s: float) -> list[str]:
        async def texts() -> list[str]:
            return [plain_text(m) for m in await mailbox(self.server, address)]

        with contextlib.suppress(AssertionError):
            await eventually(texts, timeout=timeout_s)
        return await texts()

    def buttons_seen(self, address: str) -> bool:
        return False  # e-mail has no buttons: they arrive as numbered lines

    async def peer_down(self) -> None:
        self.server.stop_smtp()

    async def peer_up(self) -> None:
        self.server.start_smtp()


@contextlib.asynccontextmanager
async def harness(*, mongo_url: str, redis_url: str, db_name: str) -> AsyncIterator[EmailHarness]:
    with running_mail_server() as server:
        settings = make_settings(db_name).model_copy(update={"email": email_settings(server)})
        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
            yield EmailHarness(hub, server, SmtpSender(settings.email, SystemClock()))
