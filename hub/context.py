"""The typed runtime object handed to the web layers (no module-level state anywhere)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hub.clock import Clock
from hub.config import Settings
from hub.login_limits import RedisLoginThrottle
from hub.outbox import Outbox
from hub.passwords import HashingPool
from hub.ports import Acd
from hub.service import ConversationService
from hub.storage.attachments import MongoAttachmentStore
from hub.storage.conversations import MongoConversationStore
from hub.storage.directory import MongoDirectory
from hub.storage.messages import MongoMessageStore
from hub.storage.sessions import MongoSessionStore


@dataclass(frozen=True, slots=True)
class Probes:
    """Readiness checks of the backing services (each raises when its service does not answer)."""

    mongo: Callable[[], Awaitable[object]]
    redis: Callable[[], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class HubContext:
    settings: Settings
    clock: Clock
    service: ConversationService
    acd: Acd
    directory: MongoDirectory
    conversations: MongoConversationStore
    messages: MongoMessageStore
    sessions: MongoSessionStore
    attachments: MongoAttachmentStore
    outbox: Outbox
    probes: Probes
    hashing: HashingPool  # argon2 for the console (login, password changes)
    logins: RedisLoginThrottle
