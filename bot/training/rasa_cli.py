"""The Rasa CLI of Rasa's own venv, run as asyncio subprocesses: ``rasa train`` and the predict script.

Never in the hub's venv and never blocking the event loop: the child's output is read as it comes,
and file writes go to a thread. Cancelling a call kills the child.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.training.progress import Progress, advance, split_output

logger = logging.getLogger(__name__)

# What scripts/rasa.sh sets; caching is off because every curated training has new data.
RASA_ENV = {"RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONWARNINGS": "ignore", "RASA_MAX_CACHE_SIZE": "0", "LOG_LEVEL": "INFO"}
TAIL_LINES = 30


class RasaCliError(Exception):
    """``rasa train`` or the predict script failed; the message ends with the output's last lines."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RasaCli:
    venv: Path
    project_dir: Path
    # Where the project's linear classifier keeps its last fit between trainings, to start the next one
    # from it (bot/rasa_project/northgrid_nlu/warm_start.py, ADR 0056); None: every fit starts cold.
    warm_start_dir: Path | None = None

    def _env(self) -> dict[str, str]:
        # Pass the environment through (PATH, HOME), plus Rasa's switches and the project's own
        # components (bot/rasa_project/northgrid_nlu), which a training's workspace does not hold.
        path = os.pathsep.join(p for p in (str(self.project_dir.resolve()), os.environ.get("PYTHONPATH")) if p)
        warm = {"NORTHGRID_WARM_START_DIR": str(self.warm_start_dir.resolve())} if self.warm_start_dir else {}
        return {**os.environ, **RASA_ENV, "PYTHONPATH": path, **warm}

    async def train(self, files: Mapping[str, str], *, workspace: Path, out_dir: Path, name: str,
                    on_progress: Callable[[Progress], Awaitable[None]], timeout_s: float) -> Path:
        """Write ``files`` (relative name -> text) into ``workspace``, train, return the model's path."""
        rasa = self.venv / "bin" / "rasa"
        if not rasa.exists():
            raise RasaCliError(f"no {rasa}: run 'scripts/rasa.sh install' first")
        await asyncio.to_thread(_write_files, workspace, files)
        await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
        model = out_dir / f"{name}.tar.gz"
        process = await asyncio.create_subprocess_exec(
            str(rasa), "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
            "--out", str(out_dir), "--fixed-model-name", name, cwd=workspace, env=self._env(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)
        tail: deque[str] = deque(maxlen=TAIL_LINES)
        try:
            async with asyncio.timeout(timeout_s):
                assert process.stdout is not None
                await _follow(process.stdout, tail, on_progress)
                code = await process.wait()
        except TimeoutError:
            raise RasaCliError(f"rasa train ran longer than {timeout_s:.0f} s") from None
        finally:
            await _stop(process)
        output = "\n".join(tail)
        await asyncio.to_thread((workspace / "train.log").write_text, output, "utf-8")
        if code != 0 or not model.exists():
            raise RasaCliError(f"rasa train exited with {code}:\n{output}")
        return model

    async def predict(self, model: Path, texts: list[str], *, timeout_s: float = 900.0) -> dict[str, Any]:
        """``{"intents": [...], "predictions": [[intent, confidence], ...]}`` of ``model`` on ``texts``."""
        python = self.venv / "bin" / "python"
        script = self.project_dir / "predict.py"
        with tempfile.TemporaryDirectory(prefix="hub-predict-") as scratch:
            source, target = Path(scratch) / "texts.json", Path(scratch) / "out.json"
            await asyncio.to_thread(source.write_text, json.dumps(texts, ensure_ascii=False), "utf-8")
            process = await asyncio.create_subprocess_exec(
                str(python), str(script), "--model", str(model), "--input", str(source), "--output", str(target),
                env=self._env(), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
            try:
                async with asyncio.timeout(timeout_s):
                    output, _ = await process.communicate()
            except TimeoutError:
                raise RasaCliError(f"predicting with {model.name} took longer than {timeout_s:.0f} s") from None
            finally:
                await _stop(process)
            if process.returncode != 0 or not target.exists():
                last = "\n".join(output.decode("utf-8", "replace").splitlines()[-TAIL_LINES:])
                raise RasaCliError(f"predict.py exited with {process.returncode}:\n{last}")
            result: dict[str, Any] = json.loads(await asyncio.to_thread(target.read_text, "utf-8"))
            return result


async def _follow(stream: asyncio.StreamReader, tail: deque[str],
                  on_progress: Callable[[Progress], Awaitable[None]]) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    progress, reported, rest = Progress(), Progress(), ""
    while chunk := await stream.read(4096):
        lines, rest = split_output(rest + decoder.decode(chunk))
        for line in lines:
            if "Epochs:" not in line:
                tail.append(line)
            progress = advance(progress, line)
        if progress.phase != reported.phase:
            reported = progress
            await on_progress(progress)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Make sure the child (and its process group) is gone; a no-op when it has exited."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 15)
    try:
        async with asyncio.timeout(10):
            await process.wait()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        await process.wait()


def _write_files(workspace: Path, files: Mapping[str, str]) -> None:
    if workspace.exists():
        shutil.rmtree(workspace)
    for name, text in files.items():
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
