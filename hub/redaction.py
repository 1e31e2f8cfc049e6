"""No configured secret in any log line, whichever library writes it.

httpx logs every request URL at INFO, and a Bot API URL holds the bot's token
(``https://api.telegram.org/bot<token>/sendMessage``, ``/file/bot<token>/...``). Rather than
trusting each library, ``install_redaction`` puts a ``SecretRedactor`` on the log *handlers*: a
filter on a logger would miss records of its child loggers, which propagate to the root's handlers
without passing their parents' filters. The redactor rewrites the formatted message, the exception
text and the stack text of every record, replacing each configured secret (every ``SecretStr`` of
``Settings``; for a URL, its password) and anything shaped like a Telegram bot token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pydantic import BaseModel, SecretStr

REDACTED = "[redacted]"
# A bot token, <digits>:<35 characters>, as in Bot API URLs (.../bot<token>/sendMessage) or alone.
TELEGRAM_TOKEN = re.compile(r"(?<![0-9])[0-9]{5,}:[A-Za-z0-9_-]{30,}")
NOISY_LIBRARIES = ("httpx", "httpcore")  # a line per request, with its URL (the token): warnings only


class SecretRedactor(logging.Filter):
    """Handler filter: never drops a record, rewrites it so that no known secret remains.

    The record is shared by every handler, so it is rewritten once, in place: ``msg`` becomes the
    redacted message with no ``args``; ``exc_text`` and ``stack_info`` are filled in redacted, and
    formatters use them as they are.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Also redact ``secrets`` (their URL-encoded forms too); empty strings are ignored."""
        new = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""), quote(secret))}
        if new - self._secrets:
            self._secrets |= new
            # Longest first: a secret that contains another is replaced whole.
            alternatives = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in alternatives))

    def redact(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return TELEGRAM_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it; keep the raw parts redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def secrets_of(model: BaseModel) -> list[str]:
    """Every ``SecretStr`` value in a settings tree (nested models and lists of them); for a URL its
    password, since the rest of it (host, port) is what an operator needs to read."""
    return [part for secret in _secret_values(model) for part in sensitive_parts(secret) if part]


def _secret_values(value: Any) -> Iterator[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secret_values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_values(item)


def sensitive_parts(secret: str) -> list[str]:
    """What of a secret must not be logged: a URL's password (none: nothing), anything else whole."""
    if "://" in secret:
        try:
            password = urlsplit(secret).password
        except ValueError:
            return [secret]
        return [password, unquote(password)] if password else []
    return [secret]


def install_redaction(secrets: Iterable[str], handlers: Iterable[logging.Handler] | None = None) -> None:
    """Redact ``secrets`` (and Telegram tokens) on ``handlers``, by default the root logger's.

    Idempotent: a handler that already has a ``SecretRedactor`` gets the new secrets added to it.
    Handlers added to the root later are not covered: call this after configuring logging.
    """
    secrets = list(secrets)
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        redactor = next((f for f in handler.filters if isinstance(f, SecretRedactor)), None)
        if redactor is None:
            handler.addFilter(SecretRedactor(secrets))
        else:
            redactor.add(secrets)


def quiet_noisy_libraries() -> None:
    """httpx and httpcore log every request URL (with the bot token in it) at INFO: warnings only."""
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
