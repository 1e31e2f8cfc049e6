"""The typed runtime object handed to the web layers (no module-level state anywhere).

It holds ports (``hub.ports``), never storage classes: what the console reads and writes is
named by the port's methods, and no query syntax crosses this seam.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from hub.call_ports import CallLine
from hub.clock import Clock
from hub.config import Settings
from hub.outbox import Outbox
from hub.passwords import HashingPool
from hub.ports import (
    Acd,
    AgentDesk,
    AttachmentFiles,
    ConversationRecords,
    Directory,
    LoginSessions,
    LoginThrottle,
    MessageLog,
    SessionInbox,
)
from hub.registry import ChannelRegistry
from hub.supervisor import LoopStatus


def no_loops() -> Sequence[LoopStatus]:
    return ()


async def no_bus() -> None:
    """A context without a bus of its own (tools): nothing to wait for."""


@dataclass(frozen=True, slots=True)
class Probes:
    """Readiness checks of the backing services (each raises when its service does not answer) and
    of the bus's subscription, and the supervised background loops as they stand (``hub.supervisor``)."""

    mongo: Callable[[], Awaitable[object]]
    redis: Callable[[], Awaitable[object]]
    loops: Callable[[], Sequence[LoopStatus]] = no_loops
    bus: Callable[[], Awaitable[object]] = no_bus  # raises while the bus listener is not subscribed


@dataclass(frozen=True, slots=True)
class HubContext:
    settings: Settings
    clock: Clock
    desk: AgentDesk  # what the console does to conversations for an agent
    inbox: SessionInbox  # customer messages (the console takes none; tools and tests hand them in)
    acd: Acd
    directory: Directory
    conversations: ConversationRecords
    messages: MessageLog
    sessions: LoginSessions
    attachments: AttachmentFiles
    outbox: Outbox
    probes: Probes
    hashing: HashingPool  # argon2 for the console (login, password changes)
    logins: LoginThrottle
    channels: ChannelRegistry
    calls: CallLine  # call records (the console's call panel); controls: ``channels.call_control()``
