"""A thin wrapper over python-telegram-bot's ``Bot``: the few Bot API calls the hub makes, in our types.

It owns its two HTTP connection pools (one for calls, one for long polling) and closes them on
exit, whether or not the bot was ever initialised. Errors stay PTB's ``TelegramError``; the
adapter translates them (``channels.telegram.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.request import HTTPXRequest

from hub.config import TelegramSettings

ALLOWED_UPDATES = ("message", "callback_query")  # edited messages are ignored, so not even asked for


class FileTooLarge(Exception):
    """A customer's file above the configured limit: it is not downloaded."""


class TelegramClient:
    """Lifecycle: ``async with``; cancellation-safe (a cancelled call leaves the pools usable)."""

    def __init__(self, settings: TelegramSettings) -> None:
        if settings.token is None:
            raise ValueError("telegram needs HUB_TELEGRAM__TOKEN")
        api = settings.api_url.rstrip("/")
        self._requests = (
            HTTPXRequest(connection_pool_size=32, read_timeout=settings.request_timeout_s, write_timeout=30.0,
                         connect_timeout=5.0, pool_timeout=5.0),
            HTTPXRequest(connection_pool_size=1, read_timeout=settings.poll_timeout_s + 10.0, connect_timeout=5.0),
        )
        self._poll_timeout_s = settings.poll_timeout_s
        self._bot = Bot(settings.token.get_secret_value(), base_url=f"{api}/bot", base_file_url=f"{api}/file/bot",
                        request=self._requests[0], get_updates_request=self._requests[1])

    async def __aenter__(self) -> TelegramClient:
        for request in self._requests:
            await request.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for request in self._requests:
            await request.shutdown()

    async def username(self) -> str:
        """getMe: checks the token; the bot's @username."""
        return (await self._bot.get_me()).username or ""

    async def send_text(self, chat_id: int, text: str, buttons: Sequence[Mapping[str, str]] = ()) -> int:
        """sendMessage, with one inline button per row for quick replies; the new message's id."""
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(b["title"], callback_data=b["payload"])]
                                       for b in buttons]) if buttons else None
        sent = await self._bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
        return sent.message_id

    async def download(self, file_id: str, max_bytes: int) -> bytes:
        """getFile, then the file itself. Raises ``FileTooLarge`` before downloading when it can tell."""
        file = await self._bot.get_file(file_id)
        if file.file_size is not None and file.file_size > max_bytes:
            raise FileTooLarge(file_id)
        data = bytes(await file.download_as_bytearray())
        if len(data) > max_bytes:
            raise FileTooLarge(file_id)
        return data

    async def answer_callback(self, query_id: str) -> None:
        """answerCallbackQuery: stops the spinner on the customer's button."""
        await self._bot.answer_callback_query(query_id)

    async def remove_keyboard(self, chat_id: int, message_id: int) -> None:
        """editMessageReplyMarkup without a markup: a quick reply is chosen once."""
        await self._bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self._bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES),
                                    max_connections=40)

    async def delete_webhook(self) -> None:
        await self._bot.delete_webhook()

    async def get_updates(self, offset: int) -> tuple[Update, ...]:
        """Long poll: confirms every update before ``offset`` and waits for new ones."""
        return await self._bot.get_updates(offset=offset, timeout=self._poll_timeout_s,
                                           allowed_updates=list(ALLOWED_UPDATES))
