"""What the ``hub`` commands share: a database for one command, argument helpers, the demo guard."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from hub.config import Settings
from hub.embedded import embedded_services
from hub.errors import InvalidInput
from hub.storage.database import Db, connect
from hub.storage.upgrades import prepare_database


def split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


@contextlib.asynccontextmanager
async def database_for(settings: Settings) -> AsyncIterator[Db]:
    with contextlib.ExitStack() as stack:
        if settings.mongo_url is None:
            data_dir = settings.embedded.data_dir
            mongo_service, _ = stack.enter_context(embedded_services(data_dir, data_dir / "logs"))
            url = mongo_service.url
        else:
            url = settings.mongo_url.get_secret_value()
        client = connect(url)
        try:
            db = client[settings.mongo_db]
            await prepare_database(db)  # indexes, then upgrades of an older hub's data (ADRs 0067, 0068)
            yield db
        finally:
            await client.close()


async def read_text(path: Path) -> str:
    try:
        return await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"cannot read {path}: {err}") from err


def refuse_outside_development(settings: Settings, command: str) -> None:
    """The demo agents' password is public: never create them next to real data."""
    if not settings.development_mode:
        raise InvalidInput(f"{command} runs only in development mode (neither HUB_MONGO_URL nor HUB_REDIS_URL "
                           "set): the demo agents' password is public")
