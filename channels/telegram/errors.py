"""Bot API errors (as python-telegram-bot raises them) translated to the hub's taxonomy."""

from __future__ import annotations

import re
import warnings
from datetime import timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from hub.errors import ChannelSendError

_LONG_NUMBER = re.compile(r"\d{5,}")


def describe(err: TelegramError) -> str:
    """Telegram's description, without long numbers (chat ids); Bot API descriptions never echo text."""
    return _LONG_NUMBER.sub("…", err.message)[:160]


def retry_after_s(err: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that ``retry_after`` becomes a timedelta; both are handled
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = err.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def send_error(err: TelegramError) -> ChannelSendError:
    """Order matters: ``BadRequest`` and ``TimedOut`` are subclasses of ``NetworkError``."""
    if isinstance(err, RetryAfter):
        return ChannelSendError("telegram flood control (429)", retryable=True, retry_after_s=retry_after_s(err))
    if isinstance(err, BadRequest):
        return ChannelSendError(f"telegram rejected the message: {describe(err)}", retryable=False)
    if isinstance(err, Forbidden):
        return ChannelSendError(f"telegram refused: {describe(err)}", retryable=False)
    if isinstance(err, InvalidToken):
        return ChannelSendError("telegram rejected the bot token", retryable=False)
    if isinstance(err, ChatMigrated):
        return ChannelSendError("telegram chat migrated to a supergroup", retryable=False)
    if isinstance(err, TimedOut):
        return ChannelSendError("telegram timed out", retryable=True)
    if isinstance(err, (NetworkError, Conflict)):
        return ChannelSendError(f"telegram unreachable: {describe(err)}", retryable=True)
    return ChannelSendError(f"telegram error: {describe(err)}", retryable=False)


def is_transient(err: TelegramError) -> bool:
    """For inbound work (file downloads, webhook set-up): may a later attempt succeed?"""
    return send_error(err).retryable
