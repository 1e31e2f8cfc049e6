"""Pure: Bot API ``Update`` payloads -> what the hub stores (files are named, fetched later).

Handled: private-chat messages with text, a photo (the largest size) or a document, and
callback queries from our inline quick-reply buttons. Ignored (``None``): edited messages (the
agent already has the original; an edit is not a new message), group and channel chats, and every
other update type (inline queries, chat member changes, polls, …).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from telegram import Message, PhotoSize, Update, User

from hub.domain.text import invalid_text_path, repair

# Content a customer may send that we store as a marker only (no download).
OTHER_CONTENT = ("sticker", "voice", "audio", "video", "video_note", "animation", "location", "venue", "contact",
                 "poll", "dice")


class UpdateError(ValueError):
    """The request body is not a JSON object (so not an Update)."""


class Mistyped(ValueError):
    """A field the hub reads does not have the Bot API's type (PTB's ``de_json`` checks no types)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRef:
    file_id: str
    filename: str
    content_type: str
    size: int | None  # as Telegram announced it; checked again after getFile and after the download


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedUpdate:
    """One customer message or button press, before its files are fetched."""

    external_id: str  # "<chat id>:<message id>" or "cb:<callback query id>"
    chat_id: str
    sender_name: str | None
    text: str
    received_at: datetime
    files: tuple[FileRef, ...] = ()
    payload: str | None = None
    callback_query_id: str | None = None
    keyboard_message_id: int | None = None  # the bot message whose button was pressed

    def __repr__(self) -> str:
        return f"ParsedUpdate({self.external_id})"


def decode_update(raw: bytes) -> dict[str, Any]:
    """JSON object of a webhook body. Raises ``UpdateError`` for anything else."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise UpdateError("not JSON") from err
    if not isinstance(data, dict):
        raise UpdateError("not a JSON object")
    invalid = invalid_text_path(data)
    if invalid is not None:  # Telegram sends UTF-8; "\ud800" escapes are someone else's
        raise UpdateError(f"{invalid[:80]} is not valid Unicode")
    return data


def to_update(data: dict[str, Any]) -> Update | None:
    """PTB's own parsing of the Update object; None when it is not one (missing or mistyped fields)."""
    try:
        return Update.de_json(data, None) if isinstance(data.get("update_id"), int) else None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError):
        return None  # RecursionError: reply_to_message nested hundreds deep (Telegram nests one level)


def parse_update(update: Update, now: datetime) -> ParsedUpdate | None:
    """``now`` dates a button press: a CallbackQuery carries no date of its own. Text that is not
    valid Unicode (possible only in polling, the webhook refuses it) is repaired, not lost: an
    update that cannot be stored would be fetched again and again. An update whose fields do not
    have the Bot API's types (a number as text, a list as chat id) is no update Telegram sends:
    None, like every other update the hub ignores."""
    parsed: ParsedUpdate | None = None
    try:
        if update.message is not None:
            parsed = parse_message(update.message)
        elif update.callback_query is not None:
            parsed = parse_callback(update, now)
    except Mistyped:
        return None
    if parsed is None:
        return None
    return replace(parsed, text=repair(parsed.text), sender_name=_repaired(parsed.sender_name),
                   payload=_repaired(parsed.payload),
                   files=tuple(replace(f, filename=repair(f.filename), content_type=repair(f.content_type))
                               for f in parsed.files))


def _repaired(text: str | None) -> str | None:
    return None if text is None else repair(text)


def parse_message(message: Message) -> ParsedUpdate | None:
    if message.chat.type != "private" or message.from_user is None or message.from_user.is_bot:
        return None
    _check_message(message)
    files: tuple[FileRef, ...] = ()
    text = message.text or message.caption or ""
    if message.photo:
        largest = _largest(message.photo)
        files = (FileRef(file_id=largest.file_id, filename=f"photo_{largest.file_unique_id}.jpg",
                         content_type="image/jpeg", size=largest.file_size),)
        text = text or "[photo]"
    elif message.document is not None:
        doc = message.document
        _check(str, doc.file_id, doc.file_unique_id)
        _check(str | None, doc.file_name, doc.mime_type)
        _check(int | None, doc.file_size)
        files = (FileRef(file_id=doc.file_id, filename=doc.file_name or f"document_{doc.file_unique_id}",
                         content_type=doc.mime_type or "application/octet-stream", size=doc.file_size),)
        text = text or f"[document: {files[0].filename}]"
    elif not text:
        kind = next((k for k in OTHER_CONTENT if getattr(message, k, None)), None)
        if kind is None:
            return None  # a service message (member joined, pinned, …): nothing a customer said
        text = f"[{kind.replace('_', ' ')}]"
    return ParsedUpdate(external_id=f"{message.chat.id}:{message.message_id}", chat_id=str(message.chat.id),
                        sender_name=message.from_user.full_name or None, text=text, received_at=message.date,
                        files=files)


def parse_callback(update: Update, now: datetime) -> ParsedUpdate | None:
    query = update.callback_query
    if query is None or not query.data:
        return None  # a game button: we never send those
    _check(str, query.id, query.data)
    _check_user(query.from_user)
    message = query.message
    if message is not None and message.chat.type != "private":
        return None
    if message is not None:
        _check(int, message.chat.id, message.message_id)
    chat_id = message.chat.id if message is not None else query.from_user.id
    title = _button_title(message, query.data) if isinstance(message, Message) else None
    return ParsedUpdate(external_id=f"cb:{query.id}", chat_id=str(chat_id), sender_name=query.from_user.full_name,
                        text=title or query.data, received_at=now, payload=query.data,
                        callback_query_id=query.id,
                        keyboard_message_id=message.message_id if message is not None else None)


def _check(kind: Any, *values: object) -> None:
    """Raise ``Mistyped`` unless every value is a ``kind`` (``bool`` is no ``int`` here)."""
    for value in values:
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise Mistyped(f"a field is not {kind}")


def _check_user(user: User) -> None:
    _check(int, user.id)
    _check(str, user.first_name)
    _check(str | None, user.last_name)


def _check_message(message: Message) -> None:
    """The fields ``parse_message`` reads, as the Bot API types them."""
    assert message.from_user is not None
    _check(int, message.chat.id, message.message_id)
    _check_user(message.from_user)
    _check(str | None, message.text, message.caption)
    for size in message.photo or ():
        _check(str, size.file_id, size.file_unique_id)
        _check(int, size.width, size.height)
        _check(int | None, size.file_size)


def _largest(sizes: tuple[PhotoSize, ...]) -> PhotoSize:
    return max(sizes, key=lambda size: (size.width * size.height, size.file_size or 0))


def _button_title(message: Message, data: str) -> str | None:
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                _check(str, button.text)
                return button.text
    return None
