"""The hub's exception taxonomy: one root, permanent versus transient, translated at boundaries."""

from __future__ import annotations


class HubError(Exception):
    """Root of every error the hub raises on purpose. ``code`` is stable and shown to clients."""

    code = "hub_error"


class NotFound(HubError):
    code = "not_found"


class IllegalTransition(HubError):
    """A state change that the conversation state machine does not allow."""

    code = "illegal_transition"


class ConcurrentUpdate(HubError):
    """Someone else changed the conversation first; reload and decide again."""

    code = "conflict"


class Forbidden(HubError):
    code = "forbidden"


class InvalidInput(HubError):
    code = "invalid_input"


class ReplyTooLong(InvalidInput):
    """A reply longer than its channel carries as one message (``hub.domain.reply_limits``)."""

    code = "too_long"


class FileTooLarge(InvalidInput):
    """An upload over its limit (413)."""

    code = "too_large"


class UnsupportedFile(InvalidInput):
    """A file whose bytes are not of an allowed type (415), whatever its name says."""

    code = "unsupported_type"


class InvalidText(InvalidInput):
    """Text that is not valid Unicode (a lone surrogate): refused, never stored half."""

    code = "invalid_text"


class ServiceUnavailable(HubError):
    """A backing service (Redis, MongoDB) is down; the caller may retry later."""

    code = "unavailable"


class BotUnavailable(HubError):
    """The bot did not answer in time or failed; the conversation goes to a human."""

    code = "bot_unavailable"


class ChannelSendError(HubError):
    """A channel refused or failed to send. ``retryable``: try again later (after ``retry_after_s``
    when the provider said so, e.g. Telegram's 429); otherwise the message fails for good."""

    code = "channel_send_failed"

    def __init__(self, message: str, *, retryable: bool, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s
