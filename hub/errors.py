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


class ServiceUnavailable(HubError):
    """A backing service (Redis, MongoDB) is down; the caller may retry later."""

    code = "unavailable"


class BotUnavailable(HubError):
    """The bot did not answer in time or failed; the conversation goes to a human."""

    code = "bot_unavailable"
