"""The channel registry: every channel the hub can speak, as one entry each.

A channel package exposes ``channel(settings, deps) -> ChannelEntry | None`` (None: not configured).
The composition root asks each known package once, registers what it gets, and wires every entry
the same way: its connections are opened before the outbox sends, its sender joins the outbox,
its routes join the web app, its loops run under the supervisor. Adding a channel (voice) is a
new package and one line in ``hub.bootstrap.CHANNELS``, not a new branch of the start-up code.
The core asks an entry's ``capabilities``, never its name.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from hub.call_ports import CallControl, CallLine, VoiceBotPorts
from hub.clock import Clock
from hub.config import Settings
from hub.domain.ids import ChannelName
from hub.domain.reply_limits import DEFAULT_LIMIT, ReplyLimit
from hub.ports import (
    ChannelSender,
    CustomerFileAccess,
    DeliveryReports,
    Directory,
    EventBus,
    Inbox,
    MailboxProgress,
    MessageLog,
    RateLimiter,
    SessionInbox,
)
from hub.supervisor import Backoff, Work

if TYPE_CHECKING:
    from aiohttp import web


class Buttons(StrEnum):
    """How quick replies reach the customer."""

    NATIVE = "native"      # the transport has buttons (Telegram inline keyboards, the widget)
    NUMBERED = "numbered"  # numbered text lines; "2" answers the second (SMS, e-mail)


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """What a channel can carry; the core and the console decide by these, never by the name."""

    buttons: Buttons
    max_text_chars: int | None  # the longest customer text accepted; None: no limit of its own
    receipts: bool  # the provider reports delivery (Kannel DLRs, the widget's delivered/read)
    live: bool  # the customer holds a connection: replies are pushed on the bus, not sent by the outbox
    reply_limit: ReplyLimit = DEFAULT_LIMIT  # the longest agent reply it carries as one message (ADR 0046)
    files: bool = False  # an agent's file goes out as the channel's own attachment (web chat, e-mail)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDeps:
    """What the core offers a channel when it is built (ports only)."""

    inbox: Inbox  # storage outages come out as ServiceUnavailable (hub.inbound.GuardedInbox)
    sessions: SessionInbox  # for channels with live sessions (web chat)
    history: MessageLog  # what a returning live client missed
    limiter: RateLimiter  # token buckets shared by every hub process
    live: Container[str]  # the live channels' names (ChannelRegistry.live), for message_json
    clock: Clock
    mailboxes: MailboxProgress  # where pollers of a mailbox stand (e-mail)
    calls: CallLine  # what a phone line reports (voice)
    directory: Directory  # agents and queues (voice rings an agent's phone)
    voice_bot: VoiceBotPorts | None = None  # the bot's handover and curated examples (the voice bot); None: no bot
    customer_files: CustomerFileAccess | None = None  # a customer's own conversations' files (web chat downloads)


DEFAULT_BACKOFF = Backoff()


@dataclass(frozen=True, slots=True, kw_only=True)
class Loop:
    """A background receiver (an IMAP watcher, Telegram polling) for ``hub.supervisor.Supervisor``.

    ``lease``: run in one hub process at a time (``hub.ports.Exclusive``); ``quiet``: expected
    failures, logged as one line."""

    name: str  # "channels:<channel>:<what>"
    work: Work
    lease: str | None = None
    backoff: Backoff = DEFAULT_BACKOFF
    quiet: tuple[type[BaseException], ...] = ()


AddRoutes = Callable[["web.Application", DeliveryReports], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEntry:
    """One channel as the composition root wires it."""

    name: ChannelName
    capabilities: Capabilities
    sender: ChannelSender | None = None  # the outbox's; None when replies are pushed live or not sent
    resources: AbstractAsyncContextManager[object] | None = None  # opened before the sender is used
    routes: AddRoutes | None = None  # webhooks; gets the outbox's delivery reports
    loops: tuple[Loop, ...] = field(default=())
    listen: Callable[[EventBus], None] | None = None  # subscribes what its live clients need (web chat)
    calls: CallControl | None = None  # hold, resume, transfer, hang up (voice): the console's call buttons


class DuplicateChannel(ValueError):
    pass


class LiveChannels(Container[str]):
    """The names of the registered channels whose capabilities say ``live``; a view, so entries
    registered later count too (the core gets it before the channels, which need the core, exist)."""

    def __init__(self, entries: Mapping[str, ChannelEntry]) -> None:
        self._entries = entries

    def __contains__(self, name: object) -> bool:
        entry = self._entries.get(name) if isinstance(name, str) else None
        return entry is not None and entry.capabilities.live


class ChannelRegistry:
    """The configured channels, in registration order. Raises ``DuplicateChannel`` on a name twice.

    ``live``: which of them hold a live connection to the customer (what the core asks, by name)."""

    def __init__(self) -> None:
        self._entries: dict[str, ChannelEntry] = {}
        self.live: Container[str] = LiveChannels(self._entries)

    def register(self, entry: ChannelEntry) -> None:
        if entry.name in self._entries:
            raise DuplicateChannel(f"channel {entry.name!r} is registered already")
        self._entries[entry.name] = entry

    def __iter__(self) -> Iterator[ChannelEntry]:
        return iter(list(self._entries.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> ChannelEntry | None:
        return self._entries.get(name)

    def reply_limit(self, name: str) -> ReplyLimit:
        """How long one reply on channel ``name`` may be (the default for an unknown channel)."""
        entry = self._entries.get(name)
        return entry.capabilities.reply_limit if entry is not None else DEFAULT_LIMIT

    def carries_files(self, name: str) -> bool:
        entry = self._entries.get(name)
        return entry is not None and entry.capabilities.files

    def call_control(self) -> CallControl | None:
        """The registered phone line's controls, if a channel carries calls."""
        return next((e.calls for e in self._entries.values() if e.calls is not None), None)

    def senders(self) -> dict[str, ChannelSender]:
        return {e.name: e.sender for e in self._entries.values() if e.sender is not None}


ChannelFactory = Callable[[Settings, ChannelDeps], ChannelEntry | None]
