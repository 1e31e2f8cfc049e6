"""The receiving half of the e-mail channel: one watcher per IMAP mailbox (aioimaplib).

Each watcher logs in, reads every message above the mailbox's stored UID (``MailboxProgress``),
hands it to the hub and only then stores its UID; then it waits in IDLE (or sleeps, for servers
without it) at most ``poll_s`` before it looks again. A session that fails ends, and
``hub.supervisor`` starts the next one after a capped exponential backoff with jitter
(``channels.email.channel``). A message that cannot be read (broken MIME, too large, refused by the
hub, or failing ``MAX_ATTEMPTS`` times) is moved to the quarantine folder: it is kept, and never
blocks the mailbox. Messages are only read (``BODY.PEEK``), never flagged or deleted otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aioimaplib  # type: ignore[import-untyped]

from channels.email.parser import MalformedEmail, parse_email
from hub.clock import Clock
from hub.config import EmailSettings, MailboxSettings
from hub.domain.model import InboundMessage
from hub.errors import InvalidInput, ServiceUnavailable
from hub.ports import MailboxProgress
from hub.supervisor import Health

logger = logging.getLogger(__name__)

Accept = Callable[[InboundMessage], Awaitable[object]]
MAX_ATTEMPTS = 3
UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
FETCH_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
# The hub's own storage being down is nobody's message's fault: wait, never quarantine for it.
# (The inbox and the progress store report a storage outage as ServiceUnavailable.)
HUB_DOWN = (ServiceUnavailable,)


class ImapError(Exception):
    """The IMAP server answered NO/BAD (the session is restarted)."""


# What ends a session without anyone's fault: the server went away, timed out or said NO/BAD.
SESSION_ERRORS: tuple[type[Exception], ...] = (OSError, TimeoutError, ImapError, aioimaplib.AioImapException)
RETRY_LATER: tuple[type[Exception], ...] = (*HUB_DOWN, *SESSION_ERRORS)  # the same message, next session


class Quarantine(Exception):
    """This one message cannot be delivered; the reason names no address and no text."""


@dataclass
class MailboxWatcher:
    """Reads one mailbox into the hub, one IMAP session per ``run``. ``connections`` counts
    successful logins."""

    mailbox: MailboxSettings
    settings: EmailSettings
    progress: MailboxProgress
    accept: Accept
    clock: Clock
    connections: int = 0
    _failures: dict[int, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The progress key: login, server and folder (never shown to customers)."""
        return f"{self.mailbox.username}@{self.mailbox.host}:{self.mailbox.port}/{self.mailbox.folder}"

    @property
    def address(self) -> str:
        return (self.mailbox.address or self.mailbox.username).lower()

    async def run(self, health: Health) -> None:
        """One session: log in, then read and wait for news until the connection fails (raises
        ``SESSION_ERRORS`` or ``ServiceUnavailable``) or the task is cancelled."""
        await self._session(health)

    async def _session(self, health: Health) -> None:
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_lost(_: Exception | None) -> None:
            if not lost.done():
                lost.set_result(None)

        client = self._client(on_lost)
        try:
            await client.wait_hello_from_server()
            _ok(await client.login(self.mailbox.username, self.mailbox.password.get_secret_value()), "login")
            uidvalidity = _uidvalidity(_ok(await client.select(_quoted(self.mailbox.folder)), "select"))
            await client.create(_quoted(self.mailbox.quarantine_folder))  # NO when it exists: fine
            self.connections += 1
            health.up()
            logger.info("email.imap.connected mailbox=%s idle=%s", self.mailbox.folder, client.has_capability("IDLE"))
            while True:
                await self._drain(client, uidvalidity)
                await self._wait_for_news(client, lost)
        finally:
            await _close(client)

    def _client(self, on_lost: Callable[[Exception | None], None]) -> Any:
        kind = aioimaplib.IMAP4_SSL if self.mailbox.tls else aioimaplib.IMAP4
        return kind(host=self.mailbox.host, port=self.mailbox.port, timeout=self.settings.timeout_s,
                    conn_lost_cb=on_lost)

    async def _wait_for_news(self, client: Any, lost: asyncio.Future[None]) -> None:
        """IDLE until the server pushes something or ``poll_s`` passed; plain sleep without IDLE."""
        poll_s = self.settings.poll_s
        if not client.has_capability("IDLE"):
            await asyncio.wait([lost], timeout=poll_s)
        else:
            idle = await client.idle_start(timeout=poll_s)
            push = asyncio.ensure_future(client.wait_server_push(timeout=poll_s + self.settings.timeout_s))
            try:
                await asyncio.wait([push, lost], return_when=asyncio.FIRST_COMPLETED)
            finally:
                push.cancel()  # on shutdown (cancelled) the socket is simply dropped by _close
            if not lost.done():
                client.idle_done()
                await asyncio.wait_for(idle, self.settings.timeout_s)
        if lost.done():
            raise ConnectionError("imap connection lost")

    async def _drain(self, client: Any, uidvalidity: int) -> None:
        last = await self.progress.last_uid(self.key, uidvalidity)
        response = _ok(await client.uid_search(f"UID {last + 1}:*", charset=None), "search")
        uids = sorted({int(u) for line in response.lines[:-1] for u in bytes(line).split() if u.isdigit()})
        for uid in (u for u in uids if u > last):  # "n:*" also matches the highest UID when it is below n
            await self._one(client, uid)
            await self.progress.advance(self.key, uidvalidity, uid, self.clock.now())

    async def _one(self, client: Any, uid: int) -> None:
        try:
            await self._deliver(client, uid)
        except Quarantine as reason:
            await self._quarantine(client, uid, str(reason))
        except RETRY_LATER:
            raise  # the hub or the connection: the same message is tried again after reconnecting
        except Exception:
            attempts = self._failures[uid] = self._failures.get(uid, 0) + 1
            logger.exception("email.deliver.failed mailbox=%s uid=%s attempt=%s", self.mailbox.folder, uid, attempts)
            if attempts < MAX_ATTEMPTS:
                raise ImapError("delivery failed; retrying") from None
            await self._quarantine(client, uid, "failed repeatedly")
        self._failures.pop(uid, None)

    async def _deliver(self, client: Any, uid: int) -> None:
        size = await self._size(client, uid)
        if size is None:
            return  # expunged meanwhile by someone else: nothing to read
        if size > self.settings.max_message_bytes:
            raise Quarantine("too large")
        raw = await self._body(client, uid)
        try:
            inbound = await asyncio.to_thread(parse_email, raw, mailbox=self.address, received_at=self.clock.now())
        except MalformedEmail as err:
            raise Quarantine(str(err)) from err
        if inbound is None or inbound.sender == self.address:
            logger.info("email.ignored mailbox=%s uid=%s reason=automatic_or_own", self.mailbox.folder, uid)
            return
        try:
            await self.accept(inbound)
        except InvalidInput as err:  # e.g. an attachment over the store's limit
            raise Quarantine(f"refused by the hub: {err}") from err
        logger.info("email.received mailbox=%s uid=%s", self.mailbox.folder, uid)

    async def _size(self, client: Any, uid: int) -> int | None:
        response = _ok(await client.uid("fetch", str(uid), "(RFC822.SIZE)"), "fetch")
        for line in response.lines:
            found = FETCH_SIZE.search(bytes(line))
            if found:
                return int(found.group(1))
        return None

    async def _body(self, client: Any, uid: int) -> bytes:
        response = _ok(await client.uid("fetch", str(uid), "(BODY.PEEK[])"), "fetch")
        literals = [bytes(line) for line in response.lines if isinstance(line, bytearray)]
        if not literals:
            raise Quarantine("no message body")
        return literals[0]

    async def _quarantine(self, client: Any, uid: int, reason: str) -> None:
        folder = _quoted(self.mailbox.quarantine_folder)
        if client.has_capability("MOVE"):
            _ok(await client.uid("move", str(uid), folder), "move")
        else:  # RFC 3501 without MOVE: copy, then flag the original deleted
            _ok(await client.uid("copy", str(uid), folder), "copy")
            _ok(await client.uid("store", str(uid), "+FLAGS.SILENT", r"(\Deleted)"), "store")
        logger.warning("email.quarantined mailbox=%s uid=%s reason=%s", self.mailbox.folder, uid, reason)


def _ok(response: Any, what: str) -> Any:
    if response.result != "OK":
        raise ImapError(f"imap {what} answered {response.result}")
    return response


def _uidvalidity(response: Any) -> int:
    for line in response.lines:
        found = UIDVALIDITY.search(bytes(line))
        if found:
            return int(found.group(1))
    raise ImapError("imap select gave no UIDVALIDITY")


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _close(client: Any) -> None:
    """Log out politely when the connection still works; always drop the socket."""
    if not client.has_pending_idle():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.logout(), 1)
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()
