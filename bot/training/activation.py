"""Activating a model: Rasa's HTTP API loads it now, and ``active.tar.gz`` makes it survive a restart.

``PUT /model {"model_file": <absolute path>}`` answers 204 once the running server has swapped to
the new model (Rasa 3.6 ``rasa/server.py``; the path is read by the server, so both share a disk).
``scripts/rasa.sh start`` loads ``<models_dir>/active.tar.gz`` when it exists.
"""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp

ACTIVE_LINK = "active.tar.gz"


async def load_model(rasa_url: str, model: Path, *, timeout_s: float) -> None:
    """Raises OSError when Rasa cannot load it in time. ``model`` must be absolute (the server's cwd differs)."""
    url = rasa_url.rstrip("/") + "/model"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http, \
                http.put(url, json={"model_file": str(model)}) as response:
            if response.status >= 300:
                raise OSError(f"rasa answered {response.status}: {(await response.text())[:300]}")
    except (aiohttp.ClientError, TimeoutError) as err:
        raise OSError(f"rasa did not answer: {type(err).__name__}") from err


def point_active(models_dir: Path, model: Path) -> Path:
    """Atomically point ``models_dir/active.tar.gz`` at ``model`` (a relative symlink when it can be)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    link = models_dir / ACTIVE_LINK
    target = model.resolve()
    relative = target.name if target.parent == models_dir.resolve() else str(target)
    temporary = models_dir / f".{ACTIVE_LINK}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(relative)
    os.replace(temporary, link)
    return link
