"""The hub's MongoDB client drops pooled connections before SecantusDB closes them as idle (ADR 0057)."""

from __future__ import annotations

from secantus.server import DEFAULT_CLIENT_IDLE_TIMEOUT_S

from hub.storage.database import connect


async def test_pooled_connections_are_dropped_before_the_server_closes_them() -> None:
    client = connect("mongodb://127.0.0.1:9/?directConnection=true")  # never contacted
    try:
        idle = client.options.pool_options.max_idle_time_seconds
        assert idle is not None and 0 < idle < DEFAULT_CLIENT_IDLE_TIMEOUT_S / 2
    finally:
        await client.close()
