"""The database made ready at start: the hub's indexes, then the upgrades of what an older hub
stored, in order. Every step is idempotent and safe to interrupt; the hub and the CLI call this, never
the steps one by one, so that no entry point forgets one.

- ADR 0068: outbox entries kept on message documents move to ``outbox`` (``outbox_migration``).
- ADR 0067: inbox-line fields kept on conversations are copied into ``inbox_lines``, once.
"""

from __future__ import annotations

from hub.storage.database import Db, ensure_indexes
from hub.storage.inbox_lines import migrate as migrate_inbox_lines
from hub.storage.outbox_migration import move_outbox_entries


async def prepare_database(db: Db) -> None:
    await ensure_indexes(db)
    await move_outbox_entries(db)
    await migrate_inbox_lines(db)
