"""Rasa over HTTP: ``/model/parse`` for the intent, the REST channel for the answer.

The sender id is the conversation id, so Rasa keeps one tracker per conversation. Any error,
non-2xx answer or a turn slower than ``timeout_s`` raises ``BotUnavailable``: the hub then hands
the conversation to a human instead of waiting.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from hub.domain.bot import BotReply, BotTurn, Button
from hub.errors import BotUnavailable

logger = logging.getLogger(__name__)


def parse_replies(payload: Any) -> tuple[BotReply, ...]:
    """The REST channel's answer: ``[{"recipient_id", "text", "buttons": [{"title", "payload"}]}]``."""
    if not isinstance(payload, list):
        raise BotUnavailable("rasa answered something other than a list of messages")
    replies = []
    for item in payload:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue  # images, custom payloads: not supported by the hub yet
        buttons = tuple(Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
                        for b in item.get("buttons") or () if isinstance(b, dict))
        replies.append(BotReply(text=item["text"], buttons=buttons))
    return tuple(replies)


FALLBACK = "nlu_fallback"  # what Rasa's FallbackClassifier puts in place of an intent under its threshold


def parse_reading(payload: Any) -> tuple[str | None, float, dict[str, str]]:
    intent = payload.get("intent") or {} if isinstance(payload, dict) else {}
    entities = {str(e.get("entity")): str(e.get("value")) for e in payload.get("entities") or ()
                if isinstance(e, dict)} if isinstance(payload, dict) else {}
    return intent.get("name"), float(intent.get("confidence") or 0.0), entities


def best_reading(payload: Any) -> tuple[str | None, float]:
    """The best real intent of the ranking, before the fallback classifier's ``nlu_fallback``."""
    ranking = payload.get("intent_ranking") if isinstance(payload, dict) else None
    for item in ranking if isinstance(ranking, list) else ():
        if isinstance(item, dict) and item.get("name") and item.get("name") != FALLBACK:
            return str(item["name"]), float(item.get("confidence") or 0.0)
    intent, confidence, _ = parse_reading(payload)
    return intent, confidence


def message_for(text: str, served: str | None, best: str | None, best_confidence: float,
                entities: dict[str, str], threshold: float | None) -> str:
    """What the dialogue hears: the text, or, when the model's own threshold keeps an intent that
    Rasa's hand-set fallback replaced, that intent as Rasa's ``/intent{entities}`` message."""
    if threshold is None or served != FALLBACK or best is None or best == FALLBACK or best_confidence < threshold:
        return text
    return f"/{best}{json.dumps(entities, ensure_ascii=False)}" if entities else f"/{best}"


class RasaBot:
    """Implements ``hub.ports.Bot``. Owns an HTTP session between ``__aenter__`` and ``__aexit__``."""

    def __init__(self, base_url: str, *, timeout_s: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RasaBot:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout_s))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def turn(self, conversation_id: str, text: str, language: str | None = None,
                   threshold: float | None = None) -> BotTurn:
        """``threshold``: the active model's out-of-scope threshold, which replaces Rasa's fallback one."""
        try:
            async with asyncio.timeout(self._timeout_s):
                reading = await self._post("/model/parse", {"text": text})
                intent, confidence, entities = parse_reading(reading)
                best, best_confidence = best_reading(reading)
                if language:
                    await self._set_language(conversation_id, language)
                message = message_for(text, intent, best, best_confidence, entities, threshold)
                answer = await self._post("/webhooks/rest/webhook", {"sender": conversation_id, "message": message})
        except (TimeoutError, aiohttp.ClientError, ValueError) as err:
            logger.warning("bot.rasa.unavailable error=%s", type(err).__name__)
            raise BotUnavailable(f"rasa did not answer: {type(err).__name__}") from err
        return BotTurn(intent=intent, confidence=confidence, entities=entities, replies=parse_replies(answer),
                       best_intent=best, best_confidence=best_confidence)

    async def parse(self, text: str) -> tuple[str | None, float]:
        """NLU only (no dialogue, no tracker): the intent and its confidence."""
        try:
            intent, confidence, _ = parse_reading(await self._post("/model/parse", {"text": text}))
        except (TimeoutError, aiohttp.ClientError, ValueError) as err:
            raise BotUnavailable(f"rasa did not answer: {type(err).__name__}") from err
        return intent, confidence

    async def intents(self) -> list[str]:
        """The intents of the loaded model's domain."""
        assert self._http is not None, "RasaBot used outside 'async with'"
        try:
            async with self._http.get(self._base_url + "/domain", headers={"Accept": "application/json"}) as resp:
                if resp.status >= 300:
                    raise BotUnavailable(f"rasa answered {resp.status} on /domain")
                domain = await resp.json()
        except (TimeoutError, aiohttp.ClientError, ValueError) as err:
            raise BotUnavailable(f"rasa did not answer: {type(err).__name__}") from err
        return [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])]

    async def _set_language(self, conversation_id: str, language: str) -> None:
        """Slot ``language`` of the conversation's tracker picks the responses' variation (domain.yml).

        A model without the slot refuses the event: the bot then answers in English, as before.
        """
        assert self._http is not None, "RasaBot used outside 'async with'"
        path = f"/conversations/{quote(conversation_id, safe='')}/tracker/events"
        async with self._http.post(self._base_url + path,
                                   json={"event": "slot", "name": "language", "value": language}) as resp:
            if resp.status >= 300:
                logger.debug("bot.rasa.language_refused status=%s", resp.status)

    async def _post(self, path: str, body: dict[str, str]) -> Any:
        assert self._http is not None, "RasaBot used outside 'async with'"
        async with self._http.post(self._base_url + path, json=body) as resp:
            if resp.status >= 300:
                raise BotUnavailable(f"rasa answered {resp.status} on {path}")
            return await resp.json()
