"""``hub serve``: run the hub (embedded services when no URLs are set) until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys

from hub import admin, demo
from hub.cli.common import refuse_outside_development
from hub.config import Settings
from hub.embedded import embedded_services, keep_running
from hub.tasks import cancel_and_wait

logger = logging.getLogger("hub")


async def serve(settings: Settings, *, with_demo: bool) -> int:
    from hub.bootstrap import embedded_voice, running_hub  # the composition root, imported only to run

    if with_demo:
        refuse_outside_development(settings, "hub serve --demo")
    if not settings.development_mode and settings.production_problems():
        for problem in settings.production_problems():
            print(f"error: {problem}", file=sys.stderr)
        return 2
    stop = stop_on_signals()  # first: a SIGINT/SIGTERM during start-up stops the hub once it has started
    async with contextlib.AsyncExitStack() as stack:
        if settings.mongo_url is None or settings.redis_url is None:
            data_dir = settings.embedded.data_dir
            mongo_service, redis_service = stack.enter_context(embedded_services(data_dir, data_dir / "logs"))
            # Supervised: an embedded service that exits is started again (cancelled before they stop).
            keeper = asyncio.create_task(keep_running([
                service for service, external in ((mongo_service, settings.mongo_url),
                                                  (redis_service, settings.redis_url)) if external is None]),
                name="hub:embedded-keeper")
            stack.push_async_callback(cancel_and_wait, keeper)
        mongo_url = settings.mongo_url.get_secret_value() if settings.mongo_url else mongo_service.url
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else redis_service.url
        settings = await stack.enter_async_context(embedded_voice(settings))
        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as hub:
            if with_demo:
                created = await admin.load_demo(hub.context.directory)
                if created:
                    print(f"demo agents created: {', '.join(created)} (password: {demo.DEMO_PASSWORD})")
            freeze_start_up_heap()
            print(f"Agent console:  {hub.base_url}/console/login", flush=True)
            print(f"Web-chat demo:  {hub.base_url}/webchat/demo", flush=True)
            print(f"Widget tag:     <script src=\"{hub.base_url}/webchat/widget.js\" defer></script>", flush=True)
            await stop.wait()
            logger.info("hub.stopping")
    logger.info("hub.stopped")  # the HTTP server, every component and the embedded services have stopped
    return 0


def freeze_start_up_heap() -> int:
    """Move what start-up left alive (modules, settings, the composition root) out of the garbage
    collector's way: a full collection scanned all of it (~120,000 objects for the imports alone,
    57 ms on the 2-core bench machine; 106-119 ms seen inside the web chat's 500/s level, that
    level's p99). Start-up's garbage is collected first; only this one-hub process does it (tests
    that run many hubs in one process do not). Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("hub.gc.frozen objects=%d", frozen)
    return frozen


def stop_on_signals() -> asyncio.Event:
    """An event that SIGINT and SIGTERM set (for the rest of the process); no signal is lost."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def agent_phone(settings: Settings, username: str) -> int:
    """``hub voice phone NAME``: an agent's SIP endpoint and password for her softphone."""
    from hub.bootstrap import agent_phone_account  # the composition root knows the voice package

    endpoint, password = agent_phone_account(settings, username)
    print(f"endpoint (SIP user): {endpoint}\npassword: {password}")
    return 0
